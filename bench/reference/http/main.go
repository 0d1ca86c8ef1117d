// The Go reference for `make bench-http`: the same JSON POST echo endpoint as
// karbonetes-bench-http, with the standard library only (net/http, crypto/tls, encoding/json),
// so that wrk compares the runtime's server against Go's net/http on equal terms.
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"time"
)

// echoPayload is what the endpoint decodes and encodes again, as the Swift server does.
type echoPayload struct {
	ID     int               `json:"id"`
	Name   string            `json:"name"`
	Values []float64         `json:"values"`
	Labels map[string]string `json:"labels"`
}

func echo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var payload echoPayload
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 7<<20)).Decode(&payload); err != nil {
		http.Error(w, "invalid JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(&payload); err != nil {
		log.Printf("encode: %v", err)
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8444", "address to listen on")
	cert := flag.String("tls-cert-file", "", "PEM certificate")
	key := flag.String("tls-key-file", "", "PEM private key")
	flag.Parse()

	mux := http.NewServeMux()
	mux.HandleFunc("/echo", echo)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	server := &http.Server{
		Addr:              *listen,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
	}
	log.Printf("listening on %s", *listen)
	if *cert != "" {
		log.Fatal(server.ListenAndServeTLS(*cert, *key))
	}
	log.Fatal(server.ListenAndServe())
}
