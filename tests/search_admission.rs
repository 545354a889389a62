//! The search gate on the real `gomtin serve`: with one search slot, a 50 ms queue budget
//! and room for 2 waiting, many callers searching at once get either their correct
//! answer or, fast, a 503 with `Retry-After` and a Vietnamese message (JSON on
//! `/api/search`, the error page on the search page), and `/metrics` counts the refused
//! ones. Harm prevented: searches piling up behind each other until every caller times
//! out, or a refusal that itself takes as long as the wait it spares. The same server
//! answers every search one at a time without a single 503, before and after the burst.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use gomtin::app::App;
use gomtin::config::Config;
use reqwest::StatusCode;
use support::TestConfig;
use support::corpus::ingest_direct;

const ARTICLES: usize = 8_000;
const BUDGET: Duration = Duration::from_millis(50);
/// What a refusal may take beyond the budget on a busy two-core test machine.
const SLACK: Duration = Duration::from_millis(750);
const CLIENTS: usize = 40;
const ROUNDS: usize = 6;
const QUERIES: &[&str] = &[
    "Việt Nam",
    "nong thon moi",
    "kinh tế",
    "bão OR lũ",
    "giá vàng -USD",
    "\"Hà Nội\"",
];
const BUSY: &str = "Máy chủ đang bận";

/// The total and the hit ids of an `/api/search` answer.
fn answer(v: &serde_json::Value) -> (u64, Vec<i64>) {
    let total = v["total"].as_u64().expect("total");
    let ids = v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["id"].as_i64().expect("id"))
        .collect();
    (total, ids)
}

fn start() -> (TestConfig, support::daemon::Daemon, String) {
    let mut toml = format!(
        "[server.limits]\nsearch_concurrency = 1\nsearch_queue_budget = \"{}ms\"\nsearch_queue_length = 2\n\n",
        BUDGET.as_millis()
    );
    for s in 0..4 {
        toml.push_str(&format!(
            "[[sources]]\nid = \"bm-{s}\"\nname = \"Báo mới {s}\"\nkind = \"manual\"\n\n"
        ));
    }
    let cfg = TestConfig::new(&toml);
    {
        let app = App::open(Config::load(&cfg.path).expect("config")).expect("app");
        ingest_direct(&app, &support::baomoi(Some(ARTICLES)), 4).expect("ingest");
        app.index.close().expect("close");
    }
    cfg.cmd(&["users", "add", "tai", "--role", "staff", "--password-stdin"])
        .write_stdin("mat-khau-dai\n")
        .assert()
        .success();
    let token = cfg.stdout(&["users", "token", "tai"]).trim().to_string();
    let d = cfg.serve();
    (cfg, d, token)
}

/// Every query once, one after the other: all answered, none refused.
async fn one_at_a_time(
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> HashMap<&'static str, (u64, Vec<i64>)> {
    let mut out = HashMap::new();
    for q in QUERIES {
        let r = client
            .get(format!("{base}/api/search"))
            .query(&[("q", *q), ("limit", "10")])
            .bearer_auth(token)
            .send()
            .await
            .expect("search");
        assert_eq!(r.status(), StatusCode::OK, "{q} without load");
        let v: serde_json::Value = r.json().await.expect("json");
        out.insert(*q, answer(&v));
    }
    out
}

/// What one request of the burst got.
struct Seen {
    page: bool,
    status: StatusCode,
    took: Duration,
    retry_after: Option<String>,
    content_type: String,
    body: String,
    query: &'static str,
}

fn rejected_metric(text: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with("gomtin_searches_total{outcome=\"rejected\"}"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[test]
fn an_overloaded_server_refuses_fast_and_answers_the_rest_correctly() {
    let (_cfg, d, token) = start();
    let base = d.url("");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let want = one_at_a_time(&client, &base, &token).await;

        let mut tasks = tokio::task::JoinSet::new();
        for c in 0..CLIENTS {
            let (client, base, token) = (client.clone(), base.clone(), token.clone());
            tasks.spawn(async move {
                let mut seen = Vec::new();
                for round in 0..ROUNDS {
                    let query = QUERIES[(c + round) % QUERIES.len()];
                    // One client in four uses the search page, the others the API.
                    let page = c % 4 == 0;
                    let path = if page { "/" } else { "/api/search" };
                    let t = Instant::now();
                    let r = client
                        .get(format!("{base}{path}"))
                        .query(&[("q", query), ("limit", "10")])
                        .bearer_auth(&token)
                        .send()
                        .await
                        .expect("request");
                    let header = |name| {
                        r.headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .map(String::from)
                    };
                    let (retry_after, content_type) = (
                        header(reqwest::header::RETRY_AFTER),
                        header(reqwest::header::CONTENT_TYPE).unwrap_or_default(),
                    );
                    let status = r.status();
                    let took = t.elapsed();
                    let body = r.text().await.expect("body");
                    seen.push(Seen {
                        page,
                        status,
                        took,
                        retry_after,
                        content_type,
                        body,
                        query,
                    });
                }
                seen
            });
        }
        let mut seen = Vec::new();
        while let Some(r) = tasks.join_next().await {
            seen.extend(r.expect("client task"));
        }

        let mut refused = 0;
        let mut refused_pages = 0;
        for s in &seen {
            match s.status {
                StatusCode::OK if s.page => {
                    assert!(s.content_type.starts_with("text/html"), "{}", s.content_type);
                }
                StatusCode::OK => {
                    let v: serde_json::Value = serde_json::from_str(&s.body).expect("json");
                    assert_eq!(&answer(&v), &want[s.query], "{} under load", s.query);
                }
                StatusCode::SERVICE_UNAVAILABLE => {
                    refused += 1;
                    let secs: u64 = s
                        .retry_after
                        .as_deref()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or_else(|| panic!("503 without a Retry-After: {:?}", s.body));
                    assert!((1..=60).contains(&secs), "Retry-After {secs}");
                    assert!(
                        s.took < BUDGET + SLACK,
                        "a refusal took {:?} (budget {BUDGET:?})",
                        s.took
                    );
                    if s.page {
                        refused_pages += 1;
                        assert!(s.content_type.starts_with("text/html"), "{}", s.content_type);
                        assert!(s.body.contains(BUSY), "error page: {}", s.body);
                    } else {
                        let v: serde_json::Value = serde_json::from_str(&s.body).expect("json");
                        let msg = v["error"].as_str().expect("{\"error\": …}");
                        assert!(msg.contains(BUSY), "{msg}");
                        assert!(msg.contains(&format!("{secs} giây")), "{msg}");
                    }
                }
                other => panic!("{} {}: {other} {}", s.page, s.query, s.body),
            }
        }
        let answered = seen.len() - refused;
        eprintln!(
            "{} requests by {CLIENTS} clients: {answered} answered, {refused} refused ({refused_pages} on the search page)",
            seen.len()
        );
        assert!(refused > 0, "no 503 with {CLIENTS} clients on one slot");
        assert!(answered > 0, "nothing answered");

        let metrics = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        assert_eq!(
            rejected_metric(&metrics),
            refused as u64,
            "gomtin_searches_total{{outcome=\"rejected\"}} in {metrics}"
        );

        // The burst over, every slot is free again: one at a time, nothing is refused.
        assert_eq!(one_at_a_time(&client, &base, &token).await, want);
    });
}
