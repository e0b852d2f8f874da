// The h2spec command: runs the HTTP/2 conformance cases of the vendored h2spec library against
// one server. The library is vendored without its command, so this is ours; its flags keep
// h2spec's names, which tests/protocols/h2/test_h2spec.py passes.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/summerwind/h2spec"
	"github.com/summerwind/h2spec/config"
)

func main() {
	host := flag.String("h", "127.0.0.1", "host of the server under test")
	port := flag.Int("p", 0, "port of the server under test")
	path := flag.String("P", "/", "request path the cases use")
	timeout := flag.Int("o", 2, "seconds each case waits for an answer")
	maxHeader := flag.Int("max-header-length", 4000, "longest header value a case sends")
	report := flag.String("j", "", "file to write a JUnit report to")
	strict := flag.Bool("S", false, "also run the cases for SHOULD-level requirements")
	useTLS := flag.Bool("t", false, "connect over TLS (h2 chosen by ALPN)")
	insecure := flag.Bool("k", false, "accept the server's certificate unverified")
	verbose := flag.Bool("v", false, "print each frame")
	flag.Parse()
	if *port == 0 {
		fmt.Fprintln(os.Stderr, "h2spec: -p PORT is required")
		os.Exit(2)
	}
	ok, err := h2spec.Run(&config.Config{
		Host: *host, Port: *port, Path: *path, Timeout: time.Duration(*timeout) * time.Second,
		MaxHeaderLen: *maxHeader, JUnitReport: *report, Strict: *strict, TLS: *useTLS,
		Insecure: *insecure, Verbose: *verbose, Sections: flag.Args(),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "h2spec:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}
