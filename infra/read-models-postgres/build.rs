//! Rebuilds the crate when a migration is added: `sqlx::migrate!` embeds
//! the files of `migrations/` but cannot ask Cargo to watch the directory.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
