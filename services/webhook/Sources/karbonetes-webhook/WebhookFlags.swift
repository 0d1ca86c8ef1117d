import Foundation
import KarbonetesCommandLine
import KarbonetesLogging
import KarbonetesModels

/// The webhook's command line: the common flags plus TLS files and the signal service.
struct WebhookConfiguration {
    static let tlsCertFile = Flag(name: "tls-cert-file", help: "PEM certificate served on --listen; re-read when it changes.", valueName: "FILE")
    static let tlsKeyFile = Flag(name: "tls-key-file", help: "PEM private key of --tls-cert-file; re-read when it changes.", valueName: "FILE")
    static let signalURL = Flag(name: "signal-url", default: "http://127.0.0.1:8090", help: "Base URL of the carbon signal service.", valueName: "URL")
    static let signalTTL = Flag(name: "signal-cache-ttl", default: "5s", help: "How long a signal reading is reused before it is refreshed (a green flip reaches admissions within it).", valueName: "DURATION")
    static let signalStaleLimit = Flag(name: "signal-stale-limit", default: "5m", help: "How long the last good signal is used while the signal service fails.", valueName: "DURATION")

    static let flags: [Flag] = [
        .listen(default: "0.0.0.0:9443"), .metricsListen(default: "0.0.0.0:8080"), tlsCertFile, tlsKeyFile, signalURL,
        signalTTL, signalStaleLimit, .kubeconfig, .logLevel,
    ]

    var listen: HostPort
    var metricsListen: HostPort
    var certificateFile: String
    var keyFile: String
    var signalURL: URL
    var signalTTL: Duration
    var signalStaleLimit: Duration
    var kubeconfig: String?
    var logLevel: LogLevel

    init(_ flags: ParsedFlags) throws {
        listen = try flags.hostPort(.listen(default: "0.0.0.0:9443"))
        metricsListen = try flags.hostPort(.metricsListen(default: "0.0.0.0:8080"))
        certificateFile = try flags.requiredString(Self.tlsCertFile)
        keyFile = try flags.requiredString(Self.tlsKeyFile)
        signalURL = try flags.httpURL(Self.signalURL)
        signalTTL = try flags.value(Self.signalTTL) { try GoDuration(parsing: $0).duration }
        signalStaleLimit = try flags.value(Self.signalStaleLimit) { try GoDuration(parsing: $0).duration }
        kubeconfig = flags.string(.kubeconfig)
        logLevel = try flags.logLevel()
    }
}
