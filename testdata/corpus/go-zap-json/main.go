// go-zap-json / go-zap-console: go.uber.org/zap.
// json:    zap.NewProductionConfig() (JSON, sampling, stacktraces on error) at debug level;
//          ends with logger.Fatal.
// console: zap.NewDevelopment() (console encoder, stacktraces on warn+);
//          ends with DPanic, which panics in development mode.
package main

import (
	"errors"
	"os"

	"go.uber.org/zap"
)

type zapLogger struct{ s *zap.SugaredLogger }

func (z zapLogger) Trace(m string, kv ...any) { z.s.Debugw(m, kv...) }
func (z zapLogger) Debug(m string, kv ...any) { z.s.Debugw(m, kv...) }
func (z zapLogger) Info(m string, kv ...any)  { z.s.Infow(m, kv...) }
func (z zapLogger) Warn(m string, kv ...any)  { z.s.Warnw(m, kv...) }
func (z zapLogger) Error(m string, err error, kv ...any) {
	z.s.Errorw(m, append([]any{"error", err}, kv...)...)
}
func (z zapLogger) Fatal(m string, kv ...any) { z.s.Fatalw(m, kv...) }

func main() {
	var lg *zap.Logger
	var err error
	dev := len(os.Args) > 1 && os.Args[1] == "console"
	if dev {
		lg, err = zap.NewDevelopment()
	} else {
		cfg := zap.NewProductionConfig()
		cfg.Level = zap.NewAtomicLevelAt(zap.DebugLevel)
		lg, err = cfg.Build()
	}
	if err != nil {
		panic(err)
	}
	defer lg.Sync()
	lg = lg.Named("podsync")
	run(zapLogger{lg.WithOptions(zap.AddCallerSkip(1)).Sugar()}, 44)
	lg.DPanic("inconsistent pod cache", zap.Int("cached", 40), zap.Int("listed", 38))
	lg.Fatal("cannot reopen state store", zap.Error(errors.New("open /var/lib/podsync/state.db: read-only file system")))
}
