//! Auth health (platform admins): the last hour per minute from the server's own metrics
//! (`crate::metrics::recent`), with the thresholds of the Prometheus alert rules drawn on the
//! charts. The thresholds are read from `deploy/prometheus/alerts.yml`, embedded at build time,
//! so the page and the alerts cannot drift apart.

use super::chart::{self, Threshold};
use crate::console::ConsoleState;
use crate::console::access::Admin;
use crate::console::html::{self, E};
use crate::metrics::recent::{self, Minute};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;

const ALERTS: &str = include_str!("../../../../../deploy/prometheus/alerts.yml");

/// The first `> number` in the rule named `alert`: the threshold its expression compares with.
pub fn alert_threshold(alert: &str) -> Option<f64> {
    let start = ALERTS.find(&format!("- alert: {alert}\n"))?;
    let rest = &ALERTS[start..];
    let end = rest[1..].find("- alert:").map_or(rest.len(), |e| e + 1);
    let rule = &rest[..end];
    let expr = &rule[rule.find("expr:")?..];
    let at = expr.find("> ")?;
    let num: String = expr[at + 2..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    num.parse().ok()
}

/// The most active keys of per-minute maps, for a readable chart.
fn top_keys<K: Ord + Clone>(
    minutes: &[Minute],
    f: impl Fn(&Minute) -> Vec<(K, u64)>,
    n: usize,
) -> Vec<K> {
    let mut totals: BTreeMap<K, u64> = BTreeMap::new();
    for m in minutes {
        for (k, v) in f(m) {
            *totals.entry(k).or_default() += v;
        }
    }
    let mut v: Vec<(K, u64)> = totals.into_iter().filter(|(_, c)| *c > 0).collect();
    v.sort_by_key(|e| std::cmp::Reverse(e.1));
    v.into_iter().take(n).map(|(k, _)| k).collect()
}

pub async fn page(State(cs): State<ConsoleState>, admin: Admin) -> Response {
    let frame = admin.signed.frame("/console/health");
    let minutes = recent::last_hour();
    let mut b = String::from(
        "<p class=\"muted\">The last hour on this instance, per minute, from its own metrics. Dashed red lines are the thresholds of the Prometheus alert rules (deploy/prometheus/alerts.yml).</p><div class=\"grid\">",
    );

    // Sign-in outcomes.
    let mut series = vec![(
        "success".to_owned(),
        minutes
            .iter()
            .map(|m| Some(m.auth_success as f64))
            .collect(),
    )];
    let reasons = top_keys(
        &minutes,
        |m| m.auth_failures.iter().map(|(k, v)| (*k, *v)).collect(),
        5,
    );
    for r in &reasons {
        series.push((
            format!("failed: {r}"),
            minutes
                .iter()
                .map(|m| Some(*m.auth_failures.get(r).unwrap_or(&0) as f64))
                .collect(),
        ));
    }
    b.push_str(&chart::lines(
        "Token checks by outcome",
        "per min",
        &series,
        None,
    ));

    let ratio: Vec<Option<f64>> = minutes
        .iter()
        .map(|m| {
            let failed: u64 = m.auth_failures.values().sum();
            let total = failed + m.auth_success;
            (total > 0).then(|| 100.0 * failed as f64 / total as f64)
        })
        .collect();
    let t = alert_threshold("PortcullisAuthFailureRateHigh").map(|v| Threshold {
        value: v * 100.0,
        label: format!("{}% failures", v * 100.0),
    });
    b.push_str(&chart::lines(
        "Failed token checks (share)",
        "%",
        &[("failures".to_owned(), ratio)],
        t.as_ref(),
    ));

    // 401 and 403 by route.
    let routes = top_keys(
        &minutes,
        |m| {
            m.routes
                .iter()
                .map(|(k, v)| (k.clone(), v.1 + v.2))
                .collect()
        },
        6,
    );
    let series: Vec<(String, Vec<Option<f64>>)> = routes
        .iter()
        .map(|r| {
            (
                r.clone(),
                minutes
                    .iter()
                    .map(|m| {
                        m.routes.get(r).and_then(|(all, u, f)| {
                            (*all > 0).then(|| 100.0 * (u + f) as f64 / *all as f64)
                        })
                    })
                    .collect(),
            )
        })
        .collect();
    let t = alert_threshold("PortcullisRouteDenialsHigh").map(|v| Threshold {
        value: v * 100.0,
        label: format!("{}% refused", v * 100.0),
    });
    b.push_str(&chart::lines(
        "401/403 share by route",
        "%",
        &series,
        t.as_ref(),
    ));

    // Token validation latency.
    let p = |q: f64| -> Vec<Option<f64>> {
        minutes
            .iter()
            .map(|m| recent::quantile(&m.latency, q).map(|s| s * 1000.0))
            .collect()
    };
    let t = alert_threshold("PortcullisTokenValidationSlow").map(|v| Threshold {
        value: v * 1000.0,
        label: format!("p99 {} ms", v * 1000.0),
    });
    b.push_str(&chart::lines(
        "Token validation latency (bucket upper bound)",
        "ms",
        &[("p50".to_owned(), p(0.5)), ("p99".to_owned(), p(0.99))],
        t.as_ref(),
    ));

    // Users created.
    let t = alert_threshold("PortcullisUserCreationSpike").map(|v| Threshold {
        value: v * 60.0,
        label: format!("{} per min", v * 60.0),
    });
    b.push_str(&chart::lines(
        "Users created",
        "per min",
        &[(
            "created".to_owned(),
            minutes
                .iter()
                .map(|m| Some(m.users_created as f64))
                .collect(),
        )],
        t.as_ref(),
    ));

    // JWKS age, now.
    let ages: Vec<(String, f64)> = cs
        .app
        .verifier
        .providers()
        .map(|p| {
            let age = p
                .keys()
                .status()
                .age_secs
                .map_or(f64::INFINITY, |s| s.max(0) as f64);
            (p.issuer().to_owned(), age)
        })
        .collect();
    let t = alert_threshold("PortcullisJwksStale").map(|v| Threshold {
        value: v,
        label: format!("{v} s"),
    });
    b.push_str(&chart::bars(
        "JWKS age per issuer (now)",
        "s",
        &ages,
        t.as_ref(),
    ));
    b.push_str("</div>");

    // The numbers behind the failure chart, for reading rather than looking.
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    let mut ok = 0;
    for m in &minutes {
        ok += m.auth_success;
        for (k, v) in &m.auth_failures {
            *totals.entry(k).or_default() += v;
        }
    }
    let _ = write!(
        b,
        "<h2>Last hour in numbers</h2><table><thead><tr><th scope=\"col\">Outcome</th><th scope=\"col\">Count</th></tr></thead><tbody><tr><td>success</td><td>{ok}</td></tr>"
    );
    for (k, v) in totals {
        let _ = write!(b, "<tr><td>failed: {}</td><td>{v}</td></tr>", E(k));
    }
    b.push_str("</tbody></table>");
    html::page(StatusCode::OK, "Auth health", &frame, &b)
}

#[cfg(test)]
mod tests {
    use super::alert_threshold;

    #[test]
    fn thresholds_come_from_the_alert_rules() {
        assert_eq!(alert_threshold("PortcullisAuthFailureRateHigh"), Some(0.05));
        assert_eq!(alert_threshold("PortcullisRouteDenialsHigh"), Some(0.25));
        assert_eq!(alert_threshold("PortcullisTokenValidationSlow"), Some(0.05));
        assert_eq!(alert_threshold("PortcullisUserCreationSpike"), Some(1.0));
        assert_eq!(alert_threshold("PortcullisJwksStale"), Some(3600.0));
        assert_eq!(alert_threshold("NoSuchAlert"), None);
    }
}
