//! `syncstudio connections add | list | test | remove`.

use crate::Fatal;
use clap::Subcommand;
use salesforce::Environment;
use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;
use studio::{NewConnection, SignIn, Studio};

#[derive(Subcommand)]
pub enum Command {
    /// Sign in to an org and save the connection (tokens go to the OS keychain).
    Add {
        name: String,
        /// production, sandbox, or a My Domain / custom login URL.
        #[arg(long)]
        login_url: String,
        /// The connected app's consumer key.
        #[arg(long)]
        client_id: String,
        /// The consumer secret, when the app has one.
        #[arg(long)]
        client_secret: Option<String>,
        /// The loopback port registered in the app's callback URL.
        #[arg(long, default_value_t = studio::connections::DEFAULT_CALLBACK_PORT)]
        callback_port: u16,
        /// Print the authorization URL alone on stdout instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
        /// Sign in with the consumer key and secret only (no browser).
        #[arg(long, conflicts_with = "refresh_token_stdin")]
        client_credentials: bool,
        /// Read a refresh token obtained elsewhere from stdin.
        #[arg(long)]
        refresh_token_stdin: bool,
        /// Pin an API version (default: the newest the org offers).
        #[arg(long)]
        api_version: Option<String>,
        /// Stop before this many API calls a day.
        #[arg(long)]
        daily_cap: Option<u64>,
        /// How long to wait for the browser, in seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
    /// List connections with their user, org, status and API use.
    List,
    /// Check a connection works.
    Test { name: String },
    /// Revoke a connection's tokens and forget it.
    Remove { name: String },
}

pub fn open_studio() -> Result<Studio, Fatal> {
    Ok(Studio::open(&studio::home::home())?)
}

pub async fn run(cmd: Command) -> Result<ExitCode, Fatal> {
    let studio = open_studio()?;
    match cmd {
        Command::Add {
            name,
            login_url,
            client_id,
            client_secret,
            callback_port,
            no_browser,
            client_credentials,
            refresh_token_stdin,
            api_version,
            daily_cap,
            timeout,
        } => {
            let environment = Environment::parse(&login_url)?;
            let sign_in = if client_credentials {
                SignIn::ClientCredentials
            } else if refresh_token_stdin {
                let mut token = String::new();
                std::io::stdin().read_to_string(&mut token)?;
                SignIn::RefreshToken(token.trim().to_string())
            } else {
                SignIn::Browser {
                    timeout: Duration::from_secs(timeout),
                }
            };
            let new = NewConnection {
                name,
                environment,
                client_id,
                client_secret,
                callback_port,
                api_version,
                daily_cap,
            };
            let row = studio
                .add_connection(new, sign_in, crate::browser::opener(no_browser))
                .await?;
            eprintln!(
                "Connected {} as {} (org {}).",
                row.name,
                row.username.as_deref().unwrap_or("?"),
                row.org_id.as_deref().unwrap_or("?")
            );
        }
        Command::List => {
            let rows = studio.connections()?;
            let table: Vec<[String; 5]> = rows
                .iter()
                .map(|r| {
                    [
                        r.name.clone(),
                        r.username.clone().unwrap_or_default(),
                        r.org_id.clone().unwrap_or_default(),
                        r.status.clone(),
                        match (r.api_used, r.api_limit) {
                            (Some(u), Some(l)) => format!("{u}/{l}"),
                            _ => String::new(),
                        },
                    ]
                })
                .collect();
            let head = ["NAME", "USER", "ORG", "STATUS", "API USE"];
            let widths: Vec<usize> = (0..5)
                .map(|i| {
                    table
                        .iter()
                        .map(|r| r[i].len())
                        .chain([head[i].len()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |cells: [&str; 5]| {
                cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{c:w$}", w = widths[i]))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            println!("{}", line(head));
            for r in &table {
                println!("{}", line([&r[0], &r[1], &r[2], &r[3], &r[4]]));
            }
        }
        Command::Test { name } => {
            let row = studio.test_connection(&name).await?;
            println!(
                "ok {} as {} (org {}), API calls today {}/{}",
                row.name,
                row.username.as_deref().unwrap_or("?"),
                row.org_id.as_deref().unwrap_or("?"),
                row.api_used.unwrap_or(0),
                row.api_limit.unwrap_or(0)
            );
        }
        Command::Remove { name } => {
            studio.remove_connection(&name).await?;
            println!("removed {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
