//! Integration tests: the real server on an ephemeral port, driven over HTTP.
//! One module per area; each enforced rule has a test that shows the rejection and the
//! acceptance side by side.

mod helpers;
mod masking;

mod api;
mod apikeys;
mod authorize;
mod bounds;
mod browser;
mod concurrency;
mod connections;
mod control;
mod developer;
mod extensions;
mod fuzz;
mod landing;
mod limits;
mod openapi;
mod pages;
mod portal;
mod properties;
mod robustness;
mod rule_coverage;
mod scripted;
mod snapshots;
mod token;
