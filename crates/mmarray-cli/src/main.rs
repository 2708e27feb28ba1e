//! The `mmarray` command.

fn main() {}
