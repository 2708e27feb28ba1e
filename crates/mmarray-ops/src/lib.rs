//! mmarray-ops (under construction in this session).
