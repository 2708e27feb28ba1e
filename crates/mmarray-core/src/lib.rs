//! mmarray-core (under construction in this session).
