//! A compromised seat: far-future timestamps, huge strings and lists, health floods.
