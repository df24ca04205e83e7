// go-slog-text / go-slog-json: golang.org/x/exp/slog (the Debian 2022 snapshot
// that became log/slog in Go 1.21) with TextHandler or JSONHandler, AddSource,
// level Debug-4 (written "DEBUG-4") for trace and Error+4 ("ERROR+4") for fatal.
package main

import (
	"os"

	"golang.org/x/exp/slog"
)

type slogLogger struct{ l slog.Logger }

// LogDepth(0, ...) so that "source" names the caller, not this adapter.
func (s slogLogger) Trace(m string, kv ...any) { s.l.LogDepth(0, slog.DebugLevel-4, m, kv...) }
func (s slogLogger) Debug(m string, kv ...any) { s.l.LogDepth(0, slog.DebugLevel, m, kv...) }
func (s slogLogger) Info(m string, kv ...any)  { s.l.LogDepth(0, slog.InfoLevel, m, kv...) }
func (s slogLogger) Warn(m string, kv ...any)  { s.l.LogDepth(0, slog.WarnLevel, m, kv...) }
func (s slogLogger) Error(m string, err error, kv ...any) {
	s.l.LogDepth(0, slog.ErrorLevel, m, append([]any{"err", err}, kv...)...) // what Logger.Error does
}
func (s slogLogger) Fatal(m string, kv ...any) { s.l.LogDepth(0, slog.ErrorLevel+4, m, kv...); os.Exit(1) }

func main() {
	opts := slog.HandlerOptions{AddSource: true, Level: slog.DebugLevel - 4}
	var h slog.Handler
	if len(os.Args) > 1 && os.Args[1] == "json" {
		h = opts.NewJSONHandler(os.Stderr)
	} else {
		h = opts.NewTextHandler(os.Stderr)
	}
	l := slog.New(h).With("component", "podsync")
	run(slogLogger{l}, 43)
	l.Log(slog.ErrorLevel+4, "state store corrupted, refusing to restart", "path", "/var/lib/podsync/state.db", "crc", "0x9c1f")
	os.Exit(1)
}
