//! `portcullis dev-fault`: switches faults on a running `portcullis dev` over HTTP, the same
//! requests the `/dev-issuer/faults` page sends (as JSON), and prints what is in force.

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct DevFaultArgs {
    /// The dev server's address.
    #[arg(long, default_value = "http://127.0.0.1:8080", global = true)]
    pub url: String,
    #[command(subcommand)]
    pub fault: FaultCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum FaultCommand {
    /// Show the keys, the faults in force and the log of applied faults.
    Status,
    /// Rotate the signing key now (to the key published ahead, if any).
    RotateKey,
    /// Publish a second key in the JWKS, not signing yet.
    PublishKey,
    /// Issue the next tokens broken.
    Tokens {
        /// expired, not-yet-valid or wrong-audience.
        kind: String,
        /// How many tokens (1 to 100).
        #[arg(long, default_value_t = 1)]
        count: u32,
    },
    /// Make the JWKS answer 503 (`unavailable`) or hang, for some seconds; `ok` ends it.
    Jwks {
        /// unavailable, hang or ok.
        kind: String,
        /// How long (1 to 3600 s).
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// Revoke every session of a persona issued until now (user-level revocation).
    RevokePersona {
        /// The persona's sub.
        sub: String,
    },
    /// End the JWKS outage and drop pending token faults.
    Clear,
}

fn body(fault: &FaultCommand) -> Option<Value> {
    Some(match fault {
        FaultCommand::Status => return None,
        FaultCommand::RotateKey => json!({"fault": "rotate-key"}),
        FaultCommand::PublishKey => json!({"fault": "publish-key"}),
        FaultCommand::Tokens { kind, count } => {
            json!({"fault": "tokens", "kind": kind, "count": count})
        }
        FaultCommand::Jwks { kind, seconds } if kind == "ok" => {
            let _ = seconds;
            json!({"fault": "jwks", "kind": "ok"})
        }
        FaultCommand::Jwks { kind, seconds } => {
            json!({"fault": "jwks", "kind": kind, "seconds": seconds})
        }
        FaultCommand::RevokePersona { sub } => json!({"fault": "revoke-persona", "sub": sub}),
        FaultCommand::Clear => json!({"fault": "clear"}),
    })
}

pub async fn run(args: &DevFaultArgs) -> anyhow::Result<()> {
    let url = format!("{}/dev-issuer/faults", args.url.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let request = match body(&args.fault) {
        None => client.get(&url),
        Some(body) => client.post(&url).json(&body),
    };
    let response = request
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach the dev server at {}: {e}", args.url))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        let detail = serde_json::from_str::<Value>(&text)
            .ok()
            .map(|v| {
                let mut s = v["detail"]
                    .as_str()
                    .or(v["title"].as_str())
                    .unwrap_or("")
                    .to_owned();
                if let Some(errors) = v["errors"].as_array() {
                    for e in errors {
                        let at = e["pointer"]
                            .as_str()
                            .or(e["parameter"].as_str())
                            .unwrap_or("");
                        s.push_str(&format!("; {at} {}", e["detail"].as_str().unwrap_or("")));
                    }
                }
                s
            })
            .unwrap_or_default();
        let hint = if status == reqwest::StatusCode::NOT_FOUND && detail.is_empty() {
            " (is it `portcullis dev`?)"
        } else {
            ""
        };
        anyhow::bail!("the dev server answered {status}: {detail}{hint}");
    }
    let state: Value = serde_json::from_str(&text)
        .map_err(|_| anyhow::anyhow!("{url} did not answer with the faults' state"))?;
    println!("{}", serde_json::to_string_pretty(&state)?);
    Ok(())
}
