package http1

// Err returns the body's sticky error: nil while reading, io.EOF after a clean end, else the
// failure.
func (b *Body) Err() error { return b.err }
