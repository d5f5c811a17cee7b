//! The `zygo` binary: `serve` (default), `migrate`, `export-schema`, `admin grant|revoke`.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use zygo::{config::Config, startup::Application};

/// mimalloc instead of glibc's allocator: resolving a GraphQL response allocates a few small
/// objects per field from many tasks at once, and glibc's arenas spent a third of a nested
/// list's time in malloc, free and their lock (perf, `benches/api/run.sh` with BENCH_HOLD).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "zygo", version, about = "Zygo: a multi-tenant SaaS platform as one GraphQL API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default). Runs pending migrations first.
    Serve,
    /// Run pending database migrations and exit.
    Migrate,
    /// Print the GraphQL SDL, or write it to PATH.
    ExportSchema { path: Option<PathBuf> },
    /// Platform roles: the first super administrator is granted here.
    Admin {
        #[command(subcommand)]
        action: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Give the account with EMAIL a platform role: `super-admin` or `support`.
    Grant { email: String, role: String },
    /// Take the platform role of the account with EMAIL away.
    Revoke { email: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::ExportSchema { path }) = &cli.command {
        let sdl = zygo::graphql::sdl();
        return match path {
            None => {
                print!("{sdl}");
                ExitCode::SUCCESS
            }
            Some(p) => match std::fs::write(p, sdl) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("zygo: cannot write {}: {e}", p.display());
                    ExitCode::FAILURE
                }
            },
        };
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("zygo: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    zygo::telemetry::init(&config);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = runtime.block_on(async move {
        match cli.command {
            Some(Command::Migrate) => {
                std::fs::create_dir_all(&config.data_dir)?;
                let db = zygo::db::connect_owner(&config).await?;
                zygo::db::migrate(&db).await?;
                tracing::info!("migrations applied");
                Ok(())
            }
            Some(Command::Admin { action }) => {
                std::fs::create_dir_all(&config.data_dir)?;
                let db = zygo::db::connect_owner(&config).await?;
                zygo::db::migrate(&db).await?;
                let now = chrono::Utc::now();
                use zygo::modules::admin::roles;
                let done = match action {
                    AdminCommand::Grant { email, role } => {
                        let Some(kind) = roles::parse_role(&role) else {
                            anyhow::bail!("unknown platform role {role:?}: use super-admin or support");
                        };
                        roles::grant(&db, &email, kind, None, now)
                            .await
                            .map(|u| format!("granted {role} to {}", u.email))
                    }
                    AdminCommand::Revoke { email } => roles::revoke(&db, &email, None, now)
                        .await
                        .map(|u| format!("revoked the platform role of {}", u.email)),
                };
                match done {
                    Ok(line) => {
                        println!("{line}");
                        Ok(())
                    }
                    Err(e) => Err(anyhow::anyhow!("{e}")),
                }
            }
            _ => {
                let app = Application::build(config).await?;
                tracing::info!(
                    address = %app.local_addr(),
                    "zygo listening: GraphQL at http://{0}/graphql, GraphiQL at http://{0}/graphiql",
                    app.local_addr()
                );
                app.run(shutdown_signal()).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = ?e, "zygo stopped with an error");
            eprintln!("zygo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
