-- Seat data within bounds. Retention also counts from when the controller received a row,
-- so a seat whose clock is wrong (or lies) cannot keep its rows for ever: a row goes when
-- either its seat time or its receive time is past the period.
ALTER TABLE sessions ADD COLUMN received_at INTEGER;
-- Sessions stored before: received no later than now.
UPDATE sessions SET received_at = MIN(started_at, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
CREATE INDEX sessions_received ON sessions(received_at);
CREATE INDEX events_received ON events(received_at);
CREATE INDEX health_snapshots_received ON health_snapshots(received_at);

-- Rows stored before, as the controller now stores them: seat times at most 10 minutes
-- ahead of their receive time, sessions of a day at most.
UPDATE events SET at = received_at + 600000 WHERE at > received_at + 600000;
UPDATE health_snapshots SET at = received_at + 600000 WHERE at > received_at + 600000;
UPDATE sessions SET duration_secs = 86400 WHERE duration_secs > 86400;
UPDATE sessions SET duration_secs = 0 WHERE duration_secs < 0;
UPDATE seat_daily SET session_seconds = 0 WHERE session_seconds < 0;
UPDATE seat_daily SET session_seconds = sessions * 86400
    WHERE session_seconds > CASE WHEN sessions BETWEEN 0 AND 1000000 THEN sessions * 86400
                                 ELSE 9223372036854775807 END;
