// The runtime's side of `make bench-http`: a JSON POST echo endpoint over TLS, the same
// endpoint the Go reference in bench/reference/http serves, so that wrk measures the two alike.
import Foundation
import KarbonetesCommandLine
import KarbonetesHTTP
import KarbonetesHTTPServer
import KarbonetesLifecycle
import KarbonetesLogging
import KarbonetesMetrics
import KarbonetesTLS

/// What the echo endpoint decodes and encodes again, so that the benchmark includes JSON work
/// as a webhook's would.
struct EchoPayload: Codable, Sendable {
    var id: Int
    var name: String
    var values: [Double]
    var labels: [String: String]
}

let listen = Flag.listen(default: "127.0.0.1:8443")
let certificate = Flag(name: "tls-cert-file", help: "PEM certificate; plain HTTP when absent.", valueName: "path")
let key = Flag(name: "tls-key-file", help: "PEM private key.", valueName: "path")
let withMetrics = Flag(name: "with-metrics", default: "false", help: "Record the server's metrics (and serve /metrics), to measure their cost.", isBoolean: true)
let flags = FlagSet(
    program: "karbonetes-bench-http",
    version: "0.1.0",
    summary: "Serves POST /echo (JSON in, the same JSON out) for the HTTP benchmark.",
    flags: [listen, certificate, key, withMetrics, .logLevel]
)
let (address, tls, level, metricsEnabled) = flags.parseOrExit { parsed in
    let address = try parsed.hostPort(listen)
    var tls: TLSServerConfiguration?
    if let certificateFile = parsed.string(certificate), let keyFile = parsed.string(key) {
        tls = TLSServerConfiguration(certificateFile: certificateFile, keyFile: keyFile)
    }
    return (address, tls, try parsed.logLevel(), try parsed.bool(withMetrics))
}
let logger = Logger(label: "karbonetes-bench-http", level: level)

var router = Router()
router.add(.post, "/echo") { request in
    do {
        let payload = try JSONDecoder().decode(EchoPayload.self, from: request.body)
        return .json(payload)
    } catch {
        return .text("invalid JSON: \(error)\n", status: .badRequest)
    }
}
router.add(.get, "/healthz") { _ in .text("ok\n") }
let registry: MetricsRegistry? = metricsEnabled ? MetricsRegistry() : nil
if let registry { router.addMetrics(registry) }

do {
    let server = try HTTPServer(
        configuration: HTTPServerConfiguration(host: address.host, port: address.port, tls: tls),
        handler: router,
        logger: logger,
        metrics: registry
    )
    await ServiceMain.run(ServiceGroup(services: [server], logger: logger), logger: logger)
} catch {
    logger.critical("cannot start: \(error)")
    exit(1)
}
