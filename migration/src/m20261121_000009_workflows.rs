//! AI workflows: tenant secrets (encrypted) and environment variables, workflows with
//! immutable versions and templates, the durable execution queue with per-node state and
//! logs, and the tenant memory store used by the Memory and RAG nodes.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261121_000009_workflows"
    }
}

#[derive(DeriveIden, Clone)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden, Clone)]
enum Secrets {
    Table,
    Id,
    TenantId,
    Name,
    Description,
    Ciphertext,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    LastAccessedAt,
}

#[derive(DeriveIden, Clone)]
enum SecretAccesses {
    Table,
    Id,
    TenantId,
    SecretId,
    ExecutionId,
    NodeId,
    AccessedAt,
}

#[derive(DeriveIden, Clone)]
enum EnvironmentVariables {
    Table,
    Id,
    TenantId,
    Name,
    Value,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum Workflows {
    Table,
    Id,
    TenantId,
    Name,
    Description,
    Graph,
    Settings,
    Revision,
    Status,
    LatestVersion,
    WebhookToken,
    ScheduleNextAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum WorkflowVersions {
    Table,
    Id,
    TenantId,
    WorkflowId,
    Version,
    Graph,
    Settings,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum WorkflowTemplates {
    Table,
    Id,
    TenantId,
    Name,
    Description,
    Category,
    Graph,
    Settings,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum Executions {
    Table,
    Id,
    TenantId,
    WorkflowId,
    Version,
    Graph,
    Settings,
    Status,
    Trigger,
    Input,
    Output,
    Error,
    RetryOf,
    Claims,
    LeaseOwner,
    LeaseExpiresAt,
    RunAfter,
    CreatedBy,
    CreatedAt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden, Clone)]
enum NodeExecutions {
    Table,
    Id,
    TenantId,
    ExecutionId,
    NodeId,
    Iteration,
    Status,
    Port,
    Input,
    Output,
    Error,
    Attempt,
    Reused,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden, Clone)]
enum ExecutionLogs {
    Table,
    Id,
    TenantId,
    ExecutionId,
    NodeId,
    Level,
    Message,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum MemoryRecords {
    Table,
    Id,
    TenantId,
    Store,
    Content,
    Metadata,
    CreatedAt,
}

fn tenant_fk(
    table: impl Iden + 'static,
    column: impl Iden + 'static,
    name: &str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index(name: &str, table: impl Iden + 'static, cols: Vec<DynIden>, unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(c);
    }
    if unique {
        i.unique();
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Secrets::Table)
                .col(pk_uuid(Secrets::Id))
                .col(uuid(Secrets::TenantId))
                .col(string(Secrets::Name))
                .col(string(Secrets::Description))
                .col(text(Secrets::Ciphertext))
                .col(uuid_null(Secrets::CreatedBy))
                .col(timestamp_with_time_zone(Secrets::CreatedAt))
                .col(timestamp_with_time_zone(Secrets::UpdatedAt))
                .col(timestamp_with_time_zone_null(Secrets::LastAccessedAt))
                .foreign_key(&mut tenant_fk(Secrets::Table, Secrets::TenantId, "fk_secrets_tenant"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "uq_secrets_tenant_name",
            Secrets::Table,
            vec![Secrets::TenantId.into_iden(), Secrets::Name.into_iden()],
            true,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(SecretAccesses::Table)
                .col(pk_uuid(SecretAccesses::Id))
                .col(uuid(SecretAccesses::TenantId))
                .col(uuid(SecretAccesses::SecretId))
                .col(uuid_null(SecretAccesses::ExecutionId))
                .col(string_null(SecretAccesses::NodeId))
                .col(timestamp_with_time_zone(SecretAccesses::AccessedAt))
                .foreign_key(&mut tenant_fk(
                    SecretAccesses::Table,
                    SecretAccesses::TenantId,
                    "fk_secret_accesses_tenant",
                ))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_secret_accesses_secret")
                        .from(SecretAccesses::Table, SecretAccesses::SecretId)
                        .to(Secrets::Table, Secrets::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_secret_accesses_secret",
            SecretAccesses::Table,
            vec![SecretAccesses::SecretId.into_iden(), SecretAccesses::Id.into_iden()],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(EnvironmentVariables::Table)
                .col(pk_uuid(EnvironmentVariables::Id))
                .col(uuid(EnvironmentVariables::TenantId))
                .col(string(EnvironmentVariables::Name))
                .col(text(EnvironmentVariables::Value))
                .col(timestamp_with_time_zone(EnvironmentVariables::CreatedAt))
                .col(timestamp_with_time_zone(EnvironmentVariables::UpdatedAt))
                .foreign_key(&mut tenant_fk(
                    EnvironmentVariables::Table,
                    EnvironmentVariables::TenantId,
                    "fk_environment_variables_tenant",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "uq_environment_variables_tenant_name",
            EnvironmentVariables::Table,
            vec![EnvironmentVariables::TenantId.into_iden(), EnvironmentVariables::Name.into_iden()],
            true,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(Workflows::Table)
                .col(pk_uuid(Workflows::Id))
                .col(uuid(Workflows::TenantId))
                .col(string(Workflows::Name))
                .col(text(Workflows::Description))
                .col(json(Workflows::Graph))
                .col(json(Workflows::Settings))
                .col(integer(Workflows::Revision))
                .col(string(Workflows::Status))
                .col(integer_null(Workflows::LatestVersion))
                .col(text(Workflows::WebhookToken))
                .col(timestamp_with_time_zone_null(Workflows::ScheduleNextAt))
                .col(uuid_null(Workflows::CreatedBy))
                .col(timestamp_with_time_zone(Workflows::CreatedAt))
                .col(timestamp_with_time_zone(Workflows::UpdatedAt))
                .foreign_key(&mut tenant_fk(Workflows::Table, Workflows::TenantId, "fk_workflows_tenant"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_workflows_tenant",
            Workflows::Table,
            vec![Workflows::TenantId.into_iden(), Workflows::Id.into_iden()],
            false,
        ))
        .await?;
        m.create_index(index(
            "ix_workflows_schedule",
            Workflows::Table,
            vec![Workflows::ScheduleNextAt.into_iden()],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(WorkflowVersions::Table)
                .col(pk_uuid(WorkflowVersions::Id))
                .col(uuid(WorkflowVersions::TenantId))
                .col(uuid(WorkflowVersions::WorkflowId))
                .col(integer(WorkflowVersions::Version))
                .col(json(WorkflowVersions::Graph))
                .col(json(WorkflowVersions::Settings))
                .col(text(WorkflowVersions::Note))
                .col(uuid_null(WorkflowVersions::CreatedBy))
                .col(timestamp_with_time_zone(WorkflowVersions::CreatedAt))
                .foreign_key(&mut tenant_fk(
                    WorkflowVersions::Table,
                    WorkflowVersions::TenantId,
                    "fk_workflow_versions_tenant",
                ))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_workflow_versions_workflow")
                        .from(WorkflowVersions::Table, WorkflowVersions::WorkflowId)
                        .to(Workflows::Table, Workflows::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "uq_workflow_versions",
            WorkflowVersions::Table,
            vec![WorkflowVersions::WorkflowId.into_iden(), WorkflowVersions::Version.into_iden()],
            true,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(WorkflowTemplates::Table)
                .col(pk_uuid(WorkflowTemplates::Id))
                .col(uuid(WorkflowTemplates::TenantId))
                .col(string(WorkflowTemplates::Name))
                .col(text(WorkflowTemplates::Description))
                .col(string(WorkflowTemplates::Category))
                .col(json(WorkflowTemplates::Graph))
                .col(json(WorkflowTemplates::Settings))
                .col(uuid_null(WorkflowTemplates::CreatedBy))
                .col(timestamp_with_time_zone(WorkflowTemplates::CreatedAt))
                .foreign_key(&mut tenant_fk(
                    WorkflowTemplates::Table,
                    WorkflowTemplates::TenantId,
                    "fk_workflow_templates_tenant",
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Executions::Table)
                .col(pk_uuid(Executions::Id))
                .col(uuid(Executions::TenantId))
                .col(uuid(Executions::WorkflowId))
                .col(integer_null(Executions::Version))
                .col(json(Executions::Graph))
                .col(json(Executions::Settings))
                .col(string(Executions::Status))
                .col(string(Executions::Trigger))
                .col(json(Executions::Input))
                .col(json_null(Executions::Output))
                .col(text_null(Executions::Error))
                .col(uuid_null(Executions::RetryOf))
                .col(integer(Executions::Claims))
                .col(string_null(Executions::LeaseOwner))
                .col(timestamp_with_time_zone_null(Executions::LeaseExpiresAt))
                .col(timestamp_with_time_zone(Executions::RunAfter))
                .col(uuid_null(Executions::CreatedBy))
                .col(timestamp_with_time_zone(Executions::CreatedAt))
                .col(timestamp_with_time_zone_null(Executions::StartedAt))
                .col(timestamp_with_time_zone_null(Executions::FinishedAt))
                .foreign_key(&mut tenant_fk(Executions::Table, Executions::TenantId, "fk_executions_tenant"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_executions_workflow")
                        .from(Executions::Table, Executions::WorkflowId)
                        .to(Workflows::Table, Workflows::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // The queue: workers look for due queued runs and for running ones whose lease ran out.
        m.create_index(index(
            "ix_executions_queue",
            Executions::Table,
            vec![Executions::Status.into_iden(), Executions::RunAfter.into_iden()],
            false,
        ))
        .await?;
        m.create_index(index(
            "ix_executions_workflow",
            Executions::Table,
            vec![Executions::WorkflowId.into_iden(), Executions::Id.into_iden()],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(NodeExecutions::Table)
                .col(pk_uuid(NodeExecutions::Id))
                .col(uuid(NodeExecutions::TenantId))
                .col(uuid(NodeExecutions::ExecutionId))
                .col(string(NodeExecutions::NodeId))
                .col(string(NodeExecutions::Iteration))
                .col(string(NodeExecutions::Status))
                .col(string_null(NodeExecutions::Port))
                .col(json_null(NodeExecutions::Input))
                .col(json_null(NodeExecutions::Output))
                .col(text_null(NodeExecutions::Error))
                .col(integer(NodeExecutions::Attempt))
                .col(boolean(NodeExecutions::Reused))
                .col(timestamp_with_time_zone_null(NodeExecutions::StartedAt))
                .col(timestamp_with_time_zone_null(NodeExecutions::FinishedAt))
                .foreign_key(&mut tenant_fk(
                    NodeExecutions::Table,
                    NodeExecutions::TenantId,
                    "fk_node_executions_tenant",
                ))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_node_executions_execution")
                        .from(NodeExecutions::Table, NodeExecutions::ExecutionId)
                        .to(Executions::Table, Executions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "uq_node_executions",
            NodeExecutions::Table,
            vec![
                NodeExecutions::ExecutionId.into_iden(),
                NodeExecutions::NodeId.into_iden(),
                NodeExecutions::Iteration.into_iden(),
            ],
            true,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(ExecutionLogs::Table)
                .col(pk_uuid(ExecutionLogs::Id))
                .col(uuid(ExecutionLogs::TenantId))
                .col(uuid(ExecutionLogs::ExecutionId))
                .col(string_null(ExecutionLogs::NodeId))
                .col(string(ExecutionLogs::Level))
                .col(text(ExecutionLogs::Message))
                .col(timestamp_with_time_zone(ExecutionLogs::CreatedAt))
                .foreign_key(&mut tenant_fk(
                    ExecutionLogs::Table,
                    ExecutionLogs::TenantId,
                    "fk_execution_logs_tenant",
                ))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_execution_logs_execution")
                        .from(ExecutionLogs::Table, ExecutionLogs::ExecutionId)
                        .to(Executions::Table, Executions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_execution_logs_execution",
            ExecutionLogs::Table,
            vec![ExecutionLogs::ExecutionId.into_iden(), ExecutionLogs::Id.into_iden()],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(MemoryRecords::Table)
                .col(pk_uuid(MemoryRecords::Id))
                .col(uuid(MemoryRecords::TenantId))
                .col(string(MemoryRecords::Store))
                .col(text(MemoryRecords::Content))
                .col(json(MemoryRecords::Metadata))
                .col(timestamp_with_time_zone(MemoryRecords::CreatedAt))
                .foreign_key(&mut tenant_fk(
                    MemoryRecords::Table,
                    MemoryRecords::TenantId,
                    "fk_memory_records_tenant",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_memory_records_store",
            MemoryRecords::Table,
            vec![MemoryRecords::TenantId.into_iden(), MemoryRecords::Store.into_iden()],
            false,
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            MemoryRecords::Table.into_iden(),
            ExecutionLogs::Table.into_iden(),
            NodeExecutions::Table.into_iden(),
            Executions::Table.into_iden(),
            WorkflowTemplates::Table.into_iden(),
            WorkflowVersions::Table.into_iden(),
            Workflows::Table.into_iden(),
            EnvironmentVariables::Table.into_iden(),
            SecretAccesses::Table.into_iden(),
            Secrets::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
