// go-klog: k8s.io/klog/v2 with its default stderr output (the Kubernetes
// "Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg" header), -v=4; trace is
// V(4), debug V(2). Ends with klog.Fatalf, which dumps all goroutine stacks.
package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"k8s.io/klog/v2"
)

type klogLogger struct{}

func (klogLogger) Trace(m string, kv ...any) { klog.V(4).InfoSDepth(1, m, kv...) }
func (klogLogger) Debug(m string, kv ...any) { klog.V(2).InfoSDepth(1, m, kv...) }
func (klogLogger) Info(m string, kv ...any)  { klog.InfoSDepth(1, m, kv...) }
func (klogLogger) Warn(m string, kv ...any) {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%q", kv[i], fmt.Sprint(kv[i+1]))
	}
	klog.WarningDepth(1, m+b.String())
}
func (klogLogger) Error(m string, err error, kv ...any) { klog.ErrorSDepth(1, err, m, kv...) }
func (klogLogger) Fatal(m string, kv ...any)            { klog.FatalDepth(1, m) }

func main() {
	klog.InitFlags(nil)
	flag.Set("v", "4")
	flag.Parse()
	defer klog.Flush()
	klog.Infof("Version: %s", "v1.8.3")
	klog.V(1).Infof("Flag --v=%s", "4")
	run(klogLogger{}, 46)
	klog.Errorf("Failed to start ContainerManager: %v", errors.New("system validation failed - Following Cgroup subsystem not mounted: [memory]"))
	klog.Fatalf("failed to run Kubelet: %v", errors.New("failed to create kubelet: misconfiguration: kubelet cgroup driver: \"systemd\" is different from docker cgroup driver: \"cgroupfs\""))
}
