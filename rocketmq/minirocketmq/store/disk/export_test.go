package disk

// Crash exposes crash to the external tests.
func (s *Store) Crash() { s.crash() }

// Checkpoint returns the recovery checkpoint.
func (s *Store) Checkpoint() int64 { return s.checkpoint.Load() }
