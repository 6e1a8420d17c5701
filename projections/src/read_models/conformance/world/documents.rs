//! The [`World`]'s document and project commands, each with sensible
//! defaults (plain-text content with distinct sizes and digests).

use quire_domain::document::{self, Document, DocumentCommand, ShareRole};
use quire_domain::project::{self, ProjectCommand, ProjectError};
use quire_domain::{Actor, ContentType, ProjectId, Sha256};

use super::{World, doc_id, name, pid, sha, uid};

impl World {
    /// Requests the upload of a `text/plain` document of `size` bytes.
    #[track_caller]
    pub fn request_upload(
        &mut self,
        owner: &str,
        doc: &str,
        title: &str,
        project: Option<&str>,
    ) -> &mut World {
        self.contents += 1;
        let command = DocumentCommand::RequestUpload(document::RequestUpload {
            document_id: doc_id(doc),
            name: name(title),
            content_type: ContentType::parse("text/plain").expect("valid content type"),
            size: 100 + self.contents,
            sha256: sha(self.contents),
            project: project.map(pid),
        });
        self.document(owner, command)
    }

    /// Completes the pending first upload as declared.
    #[track_caller]
    pub fn complete_upload(&mut self, owner: &str, doc: &str) -> &mut World {
        let command = DocumentCommand::CompleteUpload(document::CompleteUpload {
            document_id: doc_id(doc),
            size: 100 + self.contents,
            sha256: sha(self.contents),
        });
        self.document(owner, command)
    }

    /// Requests and completes the first upload.
    #[track_caller]
    pub fn upload(&mut self, owner: &str, doc: &str, title: &str, project: Option<&str>) -> &mut World {
        self.request_upload(owner, doc, title, project)
            .complete_upload(owner, doc)
    }

    /// Requests and completes a new version of `content_type`, returning
    /// its size and digest.
    #[track_caller]
    pub fn new_version(&mut self, by: &str, doc: &str, content_type: &str) -> (u64, Sha256) {
        self.contents += 1;
        let (size, digest) = (100 + self.contents, sha(self.contents));
        let version = self
            .documents
            .get(&doc_id(doc))
            .map_or(0, Document::current_version)
            + 1;
        self.document(
            by,
            DocumentCommand::RequestNewVersion(document::RequestNewVersion {
                document_id: doc_id(doc),
                content_type: ContentType::parse(content_type).expect("valid content type"),
                size,
                sha256: digest.clone(),
            }),
        );
        self.document(
            by,
            DocumentCommand::CompleteVersion(document::CompleteVersion {
                document_id: doc_id(doc),
                version,
                size,
                sha256: digest.clone(),
            }),
        );
        (size, digest)
    }

    /// Requests a new version without completing it.
    #[track_caller]
    pub fn request_version(&mut self, by: &str, doc: &str, content_type: &str) -> &mut World {
        self.contents += 1;
        let command = DocumentCommand::RequestNewVersion(document::RequestNewVersion {
            document_id: doc_id(doc),
            content_type: ContentType::parse(content_type).expect("valid content type"),
            size: 100 + self.contents,
            sha256: sha(self.contents),
        });
        self.document(by, command)
    }

    #[track_caller]
    pub fn rename_document(&mut self, by: &str, doc: &str, title: &str) -> &mut World {
        let command = DocumentCommand::Rename(document::Rename {
            document_id: doc_id(doc),
            name: name(title),
        });
        self.document(by, command)
    }

    #[track_caller]
    pub fn move_document(&mut self, owner: &str, doc: &str, to: Option<&str>) -> &mut World {
        let command = DocumentCommand::Move(document::Move {
            document_id: doc_id(doc),
            to: to.map(pid),
        });
        self.document(owner, command)
    }

    #[track_caller]
    pub fn share(&mut self, owner: &str, doc: &str, user: &str, role: ShareRole) -> &mut World {
        let command = DocumentCommand::Share(document::Share {
            document_id: doc_id(doc),
            user: uid(user),
            role,
        });
        self.document(owner, command)
    }

    #[track_caller]
    pub fn unshare(&mut self, owner: &str, doc: &str, user: &str) -> &mut World {
        let command = DocumentCommand::Unshare(document::Unshare {
            document_id: doc_id(doc),
            user: uid(user),
        });
        self.document(owner, command)
    }

    #[track_caller]
    pub fn delete_document(&mut self, owner: &str, doc: &str) -> &mut World {
        let command = DocumentCommand::Delete(document::Delete {
            document_id: doc_id(doc),
        });
        self.document(owner, command)
    }

    #[track_caller]
    pub fn restore_document(&mut self, owner: &str, doc: &str) -> &mut World {
        let command = DocumentCommand::Restore(document::Restore {
            document_id: doc_id(doc),
        });
        self.document(owner, command)
    }

    /// What the project clean-up process manager issues for each document
    /// of a deleted project.
    #[track_caller]
    pub fn delete_with_project(&mut self, doc: &str, project: &str) -> &mut World {
        let command = DocumentCommand::DeleteWithProject(document::DeleteWithProject {
            document_id: doc_id(doc),
            project_id: pid(project),
        });
        if let Err(error) = self.try_document(Actor::service("project-cleanup"), command) {
            panic!("delete with project rejected: {error}");
        }
        self
    }

    #[track_caller]
    pub fn create_project(&mut self, owner: &str, id: &str, title: &str, parent: Option<&str>) -> &mut World {
        let command = ProjectCommand::Create(project::Create {
            project_id: pid(id),
            name: name(title),
            parent: parent.map(pid),
        });
        self.project(owner, command)
    }

    #[track_caller]
    pub fn rename_project(&mut self, owner: &str, id: &str, title: &str) -> &mut World {
        let command = ProjectCommand::Rename(project::Rename {
            project_id: pid(id),
            name: name(title),
        });
        self.project(owner, command)
    }

    /// Moves a project; `to_ancestors` is what the handler would read from
    /// the read model (`project_ancestors` of the target).
    pub fn move_project(
        &mut self,
        owner: &str,
        id: &str,
        to: Option<&str>,
        to_ancestors: Vec<ProjectId>,
    ) -> Result<(), ProjectError> {
        let command = ProjectCommand::Move(project::Move {
            project_id: pid(id),
            to: to.map(pid),
            to_ancestors,
        });
        self.try_project(Actor::user(owner), command)
    }

    #[track_caller]
    pub fn delete_project(&mut self, owner: &str, id: &str) -> &mut World {
        let command = ProjectCommand::Delete(project::Delete { project_id: pid(id) });
        self.project(owner, command)
    }
}
