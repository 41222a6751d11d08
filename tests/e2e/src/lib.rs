//! See tests/desktop.rs: the suite runs from scripts/test.sh under Xvfb.
