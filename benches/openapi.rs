//! `cargo bench --bench openapi`: the cost of `--openapi`, in-process, with baselines measured
//! in the same run (these machines are noisy: compare the ratios).
//!
//! - load: reading and compiling the document (`Spec::from_slice`), median of 21, against
//!   parsing the same bytes into a `serde_json::Value` (what any reader of the file pays);
//! - one request, routed and validated: for every operation of the document, its path
//!   routed, its parameters checked and (when it has one) its example JSON body parsed and
//!   checked against the schema — the mean per request, against parsing the body alone.
//!
//! The document is `ONSHAPE_OPENAPI` (Onshape's own: README: The whole REST API), else the
//! tests' small one. The refresh-grant throughput with a document loaded is in the server
//! bench (`BENCH_OPENAPI=FILE cargo bench --bench server`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use mock_server::openapi::{example::Fill, Location, Operation, Spec};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A request for `op`: its path segments, its query, its headers, its body.
type Request = (Vec<String>, String, HeaderMap, Option<Vec<u8>>);

fn request(spec: &Spec, op: &Operation) -> Request {
    let fill = Fill {
        seed: 1,
        href: "http://localhost/",
        base: "http://localhost",
        known: &[],
    };
    let value = |p: &mock_server::openapi::Param| -> String {
        match p.name.as_str() {
            "wvm" => "w".into(),
            "did" | "wid" | "vid" | "mid" | "eid" | "wvmid" => "0123456789abcdef01234567".into(),
            _ => match p.schema.map(|s| spec.schemas.example(s, &fill)) {
                Some(serde_json::Value::String(s)) => s,
                Some(v) => v.to_string(),
                None => "x".into(),
            },
        }
    };
    let mut path = op.path.clone();
    let mut query = Vec::new();
    let mut headers = HeaderMap::new();
    for p in &op.params {
        match p.location {
            Location::Path => path = path.replace(&format!("{{{}}}", p.name), &value(p)),
            Location::Query if p.required => query.push(format!("{}={}", p.name, value(p))),
            Location::Header if p.required => {
                let name =
                    axum::http::HeaderName::try_from(p.name.as_str()).expect("a header name");
                headers.insert(name, value(p).parse().expect("a header value"));
            }
            _ => {}
        }
    }
    let body = op
        .body
        .as_ref()
        .and_then(|b| b.json)
        .map(|s| serde_json::to_vec(&spec.schemas.example(s, &fill)).expect("JSON"));
    let segments = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (segments, query.join("&"), headers, body)
}

/// What the mock does with one request before answering it: route, check the parameters,
/// parse and check the body. Panics on a refusal: every request here is valid.
fn route_and_validate(spec: &Spec, op: &Operation, (segments, query, headers, body): &Request) {
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let mock_server::openapi::Routed::Found {
        op: found, params, ..
    } = spec.route(&op.method, &segs)
    else {
        panic!("{} does not route", op.label());
    };
    let q = (!query.is_empty()).then_some(query.as_str());
    black_box(mock_server::openapi::params::check(
        found,
        &spec.schemas,
        &params,
        q,
        headers,
    ))
    .expect("valid parameters");
    if let (Some(b), Some(schema)) = (body, found.body.as_ref().and_then(|b| b.json)) {
        let v: serde_json::Value = serde_json::from_slice(b).expect("JSON");
        black_box(spec.schemas.check(schema, &v)).expect("a valid body");
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let path = std::env::var("ONSHAPE_OPENAPI").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/mock-server/tests/api/openapi/onshape-test.json"
        )
        .to_owned()
    });
    let bytes = std::fs::read(&path).expect("the document reads");

    let parse = median(
        (0..21)
            .map(|_| {
                let t = Instant::now();
                black_box(serde_json::from_slice::<serde_json::Value>(&bytes).expect("JSON"));
                t.elapsed()
            })
            .collect(),
    );
    let load = median(
        (0..21)
            .map(|_| {
                let t = Instant::now();
                black_box(Spec::from_slice(&bytes).expect("the document loads"));
                t.elapsed()
            })
            .collect(),
    );
    let spec = Spec::from_slice(&bytes).expect("the document loads");
    println!(
        "{path}: {:.2} MB, {} operations, {} schemas",
        bytes.len() as f64 / 1e6,
        spec.operations.len(),
        spec.schemas.len()
    );
    println!(
        "load: median {:.1} ms (21 loads); baseline, serde_json::Value parse of the same bytes: {:.1} ms ({:.1}×)",
        load.as_secs_f64() * 1e3,
        parse.as_secs_f64() * 1e3,
        load.as_secs_f64() / parse.as_secs_f64()
    );

    let requests: Vec<_> = spec
        .operations
        .iter()
        .map(|op| (op, request(&spec, op)))
        .collect();
    let rounds = 2_000usize.div_ceil(requests.len()).max(1);
    let mut checked = 0usize;
    let t = Instant::now();
    for _ in 0..rounds {
        for (op, req) in &requests {
            route_and_validate(&spec, op, req);
            checked += 1;
        }
    }
    let per = t.elapsed() / u32::try_from(checked).expect("count");
    let t = Instant::now();
    let mut parsed = 0usize;
    for _ in 0..rounds {
        for (_, (_, _, _, body)) in &requests {
            if let Some(b) = body {
                black_box(serde_json::from_slice::<serde_json::Value>(b).expect("JSON"));
            }
            parsed += 1;
        }
    }
    let parse_per = t.elapsed() / u32::try_from(parsed).expect("count");
    println!(
        "route + validate, one request: mean {:.2} µs over {checked} (every operation, {rounds} rounds); baseline, parsing the body alone: {:.2} µs ({:.1}×)",
        per.as_secs_f64() * 1e6,
        parse_per.as_secs_f64() * 1e6,
        per.as_secs_f64() / parse_per.as_secs_f64().max(1e-9)
    );
    let worst = requests
        .iter()
        .map(|(op, req)| {
            let t = Instant::now();
            for _ in 0..50 {
                route_and_validate(&spec, op, req);
            }
            (t.elapsed() / 50, op.label())
        })
        .max()
        .expect("an operation");
    println!(
        "route + validate, the slowest operation: {:.2} µs ({})",
        worst.0.as_secs_f64() * 1e6,
        worst.1
    );
}
