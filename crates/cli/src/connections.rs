//! `syncstudio connections add | list | test | remove`.

use crate::Fatal;
use crate::output::{line, note};
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
        /// The consumer secret, when the app has one (visible to other
        /// users in the process list: prefer --client-secret-stdin).
        #[arg(long, conflicts_with = "client_secret_stdin")]
        client_secret: Option<String>,
        /// Read the consumer secret from stdin (its first line; with
        /// --refresh-token-stdin, the token is the second line).
        #[arg(long)]
        client_secret_stdin: bool,
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
        /// Stop before this many API calls a day (as Salesforce counts them).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        daily_cap: Option<u64>,
        /// How long to wait for the browser, in seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
    /// Sign a saved connection in again (after its sign-in was revoked or expired).
    Grant {
        name: String,
        /// Print the authorization URL alone on stdout instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
        /// Sign in with the consumer key and secret only (no browser).
        #[arg(long, conflicts_with = "refresh_token_stdin")]
        client_credentials: bool,
        /// Read a refresh token obtained elsewhere from stdin.
        #[arg(long)]
        refresh_token_stdin: bool,
        /// How long to wait for the browser, in seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
    /// List connections with their user, org, status (and why), API use and cap.
    List,
    /// Check a connection works.
    Test { name: String },
    /// Revoke a connection's tokens and forget it.
    Remove { name: String },
}

pub fn open_studio() -> Result<Studio, Fatal> {
    Ok(Studio::open(&studio::home::home())?)
}

/// Reads stdin's lines: the consumer secret, then a refresh token, as asked.
fn stdin_lines(secret: bool, token: bool) -> Result<(Option<String>, Option<String>), Fatal> {
    if !secret && !token {
        return Ok((None, None));
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Fatal::new(format!("cannot read stdin: {e}")))?;
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut take = |what: &str| {
        lines.next().map(str::to_string).ok_or_else(|| {
            Fatal::new(format!(
                "stdin ended before the {what}. Pipe it in, one value a line."
            ))
        })
    };
    let secret = if secret {
        Some(take("consumer secret")?)
    } else {
        None
    };
    let token = if token {
        Some(take("refresh token")?)
    } else {
        None
    };
    Ok((secret, token))
}

fn sign_in_of(client_credentials: bool, refresh_token: Option<String>, timeout: u64) -> SignIn {
    if client_credentials {
        SignIn::ClientCredentials
    } else if let Some(token) = refresh_token {
        SignIn::RefreshToken(token)
    } else {
        SignIn::Browser {
            timeout: Duration::from_secs(timeout),
        }
    }
}

fn connected(row: &studio::ConnectionRow, verb: &str) {
    note(format!(
        "{verb} {} as {} (org {}).",
        row.name,
        row.username.as_deref().unwrap_or("?"),
        row.org_id.as_deref().unwrap_or("?")
    ));
}

pub async fn run(cmd: Command) -> Result<ExitCode, Fatal> {
    let studio = open_studio()?;
    match cmd {
        Command::Add {
            name,
            login_url,
            client_id,
            client_secret,
            client_secret_stdin,
            callback_port,
            no_browser,
            client_credentials,
            refresh_token_stdin,
            api_version,
            daily_cap,
            timeout,
        } => {
            let environment = Environment::parse(&login_url)?;
            let (secret_in, token) = stdin_lines(client_secret_stdin, refresh_token_stdin)?;
            let new = NewConnection {
                name,
                environment,
                client_id,
                client_secret: client_secret.or(secret_in),
                callback_port,
                api_version,
                daily_cap,
            };
            let sign_in = sign_in_of(client_credentials, token, timeout);
            let row = studio
                .add_connection(new, sign_in, crate::browser::opener(no_browser))
                .await?;
            connected(&row, "Connected");
        }
        Command::Grant {
            name,
            no_browser,
            client_credentials,
            refresh_token_stdin,
            timeout,
        } => {
            let (_, token) = stdin_lines(false, refresh_token_stdin)?;
            let sign_in = sign_in_of(client_credentials, token, timeout);
            let row = studio
                .grant_again(&name, sign_in, crate::browser::opener(no_browser))
                .await?;
            connected(&row, "Signed in again:");
        }
        Command::List => {
            let rows = studio.connections()?;
            let head = ["NAME", "USER", "ORG", "STATUS", "API USE", "CAP", "REASON"];
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.name.clone(),
                        r.username.clone().unwrap_or_default(),
                        r.org_id.clone().unwrap_or_default(),
                        r.status.clone(),
                        match (r.api_used, r.api_limit) {
                            (Some(u), Some(l)) => format!("{u}/{l}"),
                            _ => String::new(),
                        },
                        r.daily_cap.map(|c| c.to_string()).unwrap_or_default(),
                        r.status_message
                            .as_deref()
                            .unwrap_or_default()
                            .replace(['\n', '\r', '\t'], " "),
                    ]
                })
                .collect();
            let widths: Vec<usize> = (0..head.len())
                .map(|i| {
                    table
                        .iter()
                        .map(|r| r[i].chars().count())
                        .chain([head[i].len()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let render = |cells: &[&str]| {
                cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{c:w$}", w = widths[i]))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            line(render(&head))?;
            for r in &table {
                line(render(&r.iter().map(String::as_str).collect::<Vec<_>>()))?;
            }
        }
        Command::Test { name } => {
            let row = studio.test_connection(&name).await?;
            line(format!(
                "ok {} as {} (org {}), API calls today {}/{}{}",
                row.name,
                row.username.as_deref().unwrap_or("?"),
                row.org_id.as_deref().unwrap_or("?"),
                row.api_used.unwrap_or(0),
                row.api_limit.unwrap_or(0),
                row.daily_cap
                    .map(|c| format!(", cap {c}"))
                    .unwrap_or_default()
            ))?;
        }
        Command::Remove { name } => {
            let removal = studio.remove_connection(&name).await?;
            match removal.revoke_failed {
                None => line(format!("removed {}", name.trim()))?,
                Some(why) => {
                    line(format!("removed {}", name.trim()))?;
                    note(format!(
                        "syncstudio: removed {} here, but Salesforce could not revoke its tokens ({why}); \
they may keep working until they expire: revoke them in Salesforce Setup, Connected Apps OAuth Usage.",
                        name.trim()
                    ));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
