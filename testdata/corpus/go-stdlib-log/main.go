// go-stdlib-log: the standard library "log" package with its default flags
// (LstdFlags: "2006/01/02 15:04:05 msg"); it has no levels. The program ends
// with an unrecovered runtime panic (nil map write) and its goroutine trace.
package main

import (
	"fmt"
	"log"
	"strings"
)

type stdLogger struct{}

func kvs(kv []any) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	return b.String()
}
func (stdLogger) Trace(m string, kv ...any) {}
func (stdLogger) Debug(m string, kv ...any) {}
func (stdLogger) Info(m string, kv ...any)  { log.Printf("%s%s", m, kvs(kv)) }
func (stdLogger) Warn(m string, kv ...any)  { log.Printf("%s%s", m, kvs(kv)) }
func (stdLogger) Error(m string, err error, kv ...any) {
	log.Printf("%s: %v%s", m, err, kvs(kv))
}
func (stdLogger) Fatal(m string, kv ...any) { log.Fatalf("%s%s", m, kvs(kv)) }

type registry struct{ byNode map[string][]string }

func (r *registry) add(node, pod string) { r.byNode[node] = append(r.byNode[node], pod) }

func main() {
	run(stdLogger{}, 42)
	log.Println("flushing node registry")
	var r registry
	r.add("worker-2", "default/nginx-0001")
}
