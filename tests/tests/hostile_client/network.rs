//! A seat that stops reading, handshakes that never complete, bogus enrollments, big ticket sets and commands.
