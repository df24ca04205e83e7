// go-logrus-text / go-logrus-json: github.com/sirupsen/logrus, logrus.New()
// writing to stderr (not a TTY, so TextFormatter prints time="..." level=...),
// or JSONFormatter; level trace. Text ends with log.Panic (unrecovered), JSON
// with log.Fatal.
package main

import (
	"os"

	"github.com/sirupsen/logrus"
)

type lrLogger struct{ e *logrus.Entry }

func fields(kv []any) logrus.Fields {
	f := logrus.Fields{}
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i].(string)] = kv[i+1]
	}
	return f
}
func (l lrLogger) Trace(m string, kv ...any) { l.e.WithFields(fields(kv)).Trace(m) }
func (l lrLogger) Debug(m string, kv ...any) { l.e.WithFields(fields(kv)).Debug(m) }
func (l lrLogger) Info(m string, kv ...any)  { l.e.WithFields(fields(kv)).Info(m) }
func (l lrLogger) Warn(m string, kv ...any)  { l.e.WithFields(fields(kv)).Warn(m) }
func (l lrLogger) Error(m string, err error, kv ...any) {
	l.e.WithFields(fields(kv)).WithError(err).Error(m)
}
func (l lrLogger) Fatal(m string, kv ...any) { l.e.WithFields(fields(kv)).Fatal(m) }

func main() {
	log := logrus.New()
	log.SetLevel(logrus.TraceLevel)
	asJSON := len(os.Args) > 1 && os.Args[1] == "json"
	if asJSON {
		log.SetFormatter(&logrus.JSONFormatter{})
	}
	e := log.WithField("app", "podsync")
	run(lrLogger{e}, 45)
	if asJSON {
		e.WithField("path", "/var/lib/podsync/state.db").Fatal("cannot reopen state store")
	}
	e.WithField("cached", 40).Panic("inconsistent pod cache")
}
