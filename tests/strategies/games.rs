//! Scenario tests of the games strategy plugins, against the real host.

use kith_tests::*;
use serde_json::{json, Value};
