//! `portcullis audit export`: every row as NDJSON in `seq` order, filtered by org and by time.

use super::fixture::{all_audit, populate, sqlite};
use super::{assert_exit, run};
use crate::support::binary::stdout;
use chrono::{Duration, Utc};
use std::process::Output;

fn ndjson(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[tokio::test]
async fn export_writes_every_row_as_ndjson_in_seq_order() {
    let (_dir, url, store) = sqlite().await;
    populate(&store).await;
    let rows = all_audit(&store).await;

    let o = run(&["audit", "export"], &url);
    assert_exit(&o, 0);
    let lines = ndjson(&o);
    assert_eq!(lines.len(), rows.len());
    for (line, row) in lines.iter().zip(&rows) {
        assert_eq!(line, &serde_json::to_value(row).expect("json"));
    }
    let seqs: Vec<i64> = lines
        .iter()
        .map(|l| l["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(seqs, (1..=rows.len() as i64).collect::<Vec<_>>());
    let keys: Vec<&String> = lines[0].as_object().expect("object").keys().collect();
    for k in [
        "seq",
        "id",
        "occurred_at",
        "actor_id",
        "org_id",
        "action",
        "resource_type",
        "resource_id",
        "changes",
        "request_id",
        "prev_hash",
        "hash",
    ] {
        assert!(
            keys.iter().any(|key| key.as_str() == k),
            "{k} missing: {keys:?}"
        );
    }
}

#[tokio::test]
async fn export_filters_by_org() {
    let (_dir, url, store) = sqlite().await;
    let f = populate(&store).await;
    let rows = all_audit(&store).await;
    let org = f.recent_org.to_string();
    let o = run(&["audit", "export", "--org", &org], &url);
    assert_exit(&o, 0);
    let lines = ndjson(&o);
    let expected: Vec<i64> = rows
        .iter()
        .filter(|r| r.org_id == Some(f.recent_org))
        .map(|r| r.seq)
        .collect();
    assert!(!expected.is_empty() && expected.len() < rows.len());
    assert_eq!(
        lines
            .iter()
            .map(|l| l["seq"].as_i64().expect("seq"))
            .collect::<Vec<_>>(),
        expected
    );
}

#[tokio::test]
async fn export_filters_by_time() {
    let (_dir, url, store) = sqlite().await;
    populate(&store).await;
    let rows = all_audit(&store).await;
    // --since / --until: the rows dated 40 days ago are out of order in time, not in seq.
    let cut = Utc::now() - Duration::days(20);
    let cut_s = cut.to_rfc3339();
    let o = run(&["audit", "export", "--since", &cut_s], &url);
    assert_exit(&o, 0);
    let since: Vec<i64> = ndjson(&o)
        .iter()
        .map(|l| l["seq"].as_i64().expect("seq"))
        .collect();
    let expected: Vec<i64> = rows
        .iter()
        .filter(|r| r.occurred_at >= cut)
        .map(|r| r.seq)
        .collect();
    assert_eq!(since, expected);
    let o = run(&["audit", "export", "--until", &cut_s], &url);
    assert_exit(&o, 0);
    let until: Vec<i64> = ndjson(&o)
        .iter()
        .map(|l| l["seq"].as_i64().expect("seq"))
        .collect();
    let expected: Vec<i64> = rows
        .iter()
        .filter(|r| r.occurred_at < cut)
        .map(|r| r.seq)
        .collect();
    assert_eq!(
        expected.len(),
        3,
        "the two old resource deletions and the old org deletion"
    );
    assert_eq!(until, expected);
    assert_eq!(since.len() + until.len(), rows.len());
}

#[tokio::test]
async fn export_combines_the_time_and_org_filters() {
    let (_dir, url, store) = sqlite().await;
    let f = populate(&store).await;
    let org = f.recent_org.to_string();
    let cut_s = (Utc::now() - Duration::days(20)).to_rfc3339();
    // Both, with the org: only the recent org's deletion (5 days ago) is in [20 days ago, 1 day ago).
    let end = (Utc::now() - Duration::days(1)).to_rfc3339();
    let o = run(
        &[
            "audit", "export", "--since", &cut_s, "--until", &end, "--org", &org,
        ],
        &url,
    );
    assert_exit(&o, 0);
    let lines = ndjson(&o);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["action"], "org.delete");
}
