//! `ProjectService`: projects (folders) over gRPC.

use std::sync::Arc;

use quire_domain::project::{Create, Delete, Move, Project, ProjectCommand, Rename};
use quire_domain::values::{Issued, Name, ProjectId};
use quire_projections::read_models::documents::ProjectView;
use quire_proto::v1;
use quire_proto::v1::project_service_server::ProjectService;
use tonic::{Request, Response, Status};

use crate::app::{App, ReadModel};
use crate::auth::caller;
use crate::grpc::command::{Invocation, execute, now};
use crate::grpc::convert::{optional, page_request, read_options};
use crate::grpc::status::{from_query, invalid};

#[derive(Debug)]
pub struct ProjectApi {
    pub app: Arc<App>,
}

fn project_id(field: &str, text: &str) -> Result<ProjectId, Status> {
    ProjectId::parse(text).map_err(|e| invalid(field, e))
}

fn optional_project(field: &str, text: &str) -> Result<Option<ProjectId>, Status> {
    optional(text).map(|t| project_id(field, t)).transpose()
}

fn project_to_proto(view: &ProjectView) -> v1::Project {
    v1::Project {
        id: view.id.as_str().to_owned(),
        name: view.name.as_str().to_owned(),
        owner_id: view.owner.as_str().to_owned(),
        parent_id: view
            .parent
            .as_ref()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        deleted: view.deleted,
        created_at: view.created_at.unix_micros(),
    }
}

impl ProjectApi {
    /// Checks that `parent` is a live project the caller owns.
    async fn check_parent(&self, invocation: &Invocation, parent: Option<&ProjectId>) -> Result<(), Status> {
        let Some(parent) = parent else { return Ok(()) };
        let view = self
            .app
            .documents
            .get_project(&invocation.caller.user, parent)
            .await
            .map_err(from_query)?;
        if view.deleted {
            return Err(Status::failed_precondition(format!(
                "project {} is deleted",
                parent.as_str()
            )));
        }
        Ok(())
    }

    async fn run(
        &self,
        id: &ProjectId,
        command: ProjectCommand,
        invocation: &Invocation,
    ) -> Result<v1::CommandResult, Status> {
        let issued = Issued::new(invocation.caller.actor(), now(), command);
        execute::<Project>(&self.app, id.as_str(), &issued, invocation).await
    }
}

#[tonic::async_trait]
impl ProjectService for ProjectApi {
    async fn create_project(
        &self,
        request: Request<v1::CreateProjectRequest>,
    ) -> Result<Response<v1::CreateProjectResponse>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let request = request.into_inner();
        let name = Name::parse(&request.name).map_err(|e| invalid("name", e))?;
        let parent = optional_project("parent_id", &request.parent_id)?;
        self.check_parent(&invocation, parent.as_ref()).await?;
        let id = project_id("project_id", &invocation.new_id("project"))?;
        let command = ProjectCommand::Create(Create {
            project_id: id.clone(),
            name,
            parent,
        });
        let result = self.run(&id, command, &invocation).await?;
        Ok(Response::new(v1::CreateProjectResponse {
            project_id: id.as_str().to_owned(),
            result: Some(result),
        }))
    }

    async fn rename_project(
        &self,
        request: Request<v1::RenameProjectRequest>,
    ) -> Result<Response<v1::CommandResult>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let request = request.into_inner();
        let id = project_id("project_id", &request.project_id)?;
        let name = Name::parse(&request.name).map_err(|e| invalid("name", e))?;
        let command = ProjectCommand::Rename(Rename {
            project_id: id.clone(),
            name,
        });
        Ok(Response::new(self.run(&id, command, &invocation).await?))
    }

    async fn move_project(
        &self,
        request: Request<v1::MoveProjectRequest>,
    ) -> Result<Response<v1::CommandResult>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let request = request.into_inner();
        let id = project_id("project_id", &request.project_id)?;
        let to = optional_project("parent_id", &request.parent_id)?;
        self.check_parent(&invocation, to.as_ref()).await?;
        let to_ancestors = match &to {
            Some(target) => self
                .app
                .documents
                .project_ancestors(target)
                .await
                .map_err(from_query)?,
            None => Vec::new(),
        };
        let command = ProjectCommand::Move(Move {
            project_id: id.clone(),
            to,
            to_ancestors,
        });
        Ok(Response::new(self.run(&id, command, &invocation).await?))
    }

    async fn delete_project(
        &self,
        request: Request<v1::DeleteProjectRequest>,
    ) -> Result<Response<v1::CommandResult>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let id = project_id("project_id", &request.get_ref().project_id)?;
        let command = ProjectCommand::Delete(Delete {
            project_id: id.clone(),
        });
        Ok(Response::new(self.run(&id, command, &invocation).await?))
    }

    async fn get_project(
        &self,
        request: Request<v1::GetProjectRequest>,
    ) -> Result<Response<v1::Project>, Status> {
        let reader = caller(&request)?.user;
        let request = request.into_inner();
        self.app
            .wait_for(ReadModel::Documents, read_options(&request.read))
            .await?;
        let id = project_id("project_id", &request.project_id)?;
        let view = self
            .app
            .documents
            .get_project(&reader, &id)
            .await
            .map_err(from_query)?;
        Ok(Response::new(project_to_proto(&view)))
    }

    async fn list_projects(
        &self,
        request: Request<v1::ListProjectsRequest>,
    ) -> Result<Response<v1::ListProjectsResponse>, Status> {
        let reader = caller(&request)?.user;
        let request = request.into_inner();
        self.app
            .wait_for(ReadModel::Documents, read_options(&request.read))
            .await?;
        let parent = optional_project("parent_id", &request.parent_id)?;
        let page = self
            .app
            .documents
            .list_projects(&reader, parent.as_ref(), page_request(&request.page))
            .await
            .map_err(from_query)?;
        Ok(Response::new(v1::ListProjectsResponse {
            projects: page.items.iter().map(project_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }
}
