import Foundation
import KarbonetesCommandLine
import KarbonetesLogging
import KarbonetesModels

/// The controller's command line.
struct ControllerConfiguration {
    static let signalURL = Flag(name: "signal-url", default: "http://127.0.0.1:8090", help: "Base URL of the carbon signal service.", valueName: "URL")
    static let leaderElect = Flag(name: "leader-elect", default: "true", help: "Elect a leader on a Lease; only the leader writes (2 replicas are safe).", isBoolean: true)
    static let leaderElectionNamespace = Flag(name: "leader-election-namespace", help: "Namespace of the leader-election Lease (default: the kubeconfig's or the pod's namespace).", valueName: "NAMESPACE")
    static let leaderElectionID = Flag(name: "leader-election-id", default: "karbonetes-controller", help: "Name of the leader-election Lease.", valueName: "NAME")
    static let leaseDuration = Flag(name: "lease-duration", default: "15s", help: "How long a lease is valid after its last renewal.", valueName: "DURATION")
    static let renewDeadline = Flag(name: "renew-deadline", default: "10s", help: "How long the leader tries to renew before it stops leading.", valueName: "DURATION")
    static let retryPeriod = Flag(name: "retry-period", default: "2s", help: "Between attempts to acquire or renew the lease.", valueName: "DURATION")
    static let workers = Flag(name: "workers", default: "4", help: "Jobs reconciled concurrently.", valueName: "N")
    static let signalTTL = Flag(name: "signal-poll-interval", default: "10s", help: "How often the signal is re-read; a green flip releases a region's Jobs within it.", valueName: "DURATION")
    static let signalStaleLimit = Flag(name: "signal-stale-limit", default: "5m", help: "How long the last good signal is used while the signal service fails.", valueName: "DURATION")
    static let qps = Flag(name: "kube-api-qps", default: "50", help: "Requests a second to the API server (client-side limit).", valueName: "QPS")
    static let burst = Flag(name: "kube-api-burst", default: "100", help: "Burst of requests to the API server.", valueName: "N")

    static let flags: [Flag] = [
        signalURL, .metricsListen(default: "0.0.0.0:8080"), .kubeconfig, leaderElect, leaderElectionNamespace, leaderElectionID,
        leaseDuration, renewDeadline, retryPeriod, workers, signalTTL, signalStaleLimit, qps, burst, .logLevel,
    ]

    var signalURL: URL
    var metricsListen: HostPort
    var kubeconfig: String?
    var leaderElect: Bool
    var leaderElectionNamespace: String?
    var leaderElectionID: String
    var leaseDuration: Duration
    var renewDeadline: Duration
    var retryPeriod: Duration
    var workers: Int
    var signalPollInterval: Duration
    var signalStaleLimit: Duration
    var qps: Double
    var burst: Int
    var logLevel: LogLevel

    init(_ flags: ParsedFlags) throws {
        signalURL = try flags.httpURL(Self.signalURL)
        metricsListen = try flags.hostPort(.metricsListen(default: "0.0.0.0:8080"))
        kubeconfig = flags.string(.kubeconfig)
        leaderElect = try flags.bool(Self.leaderElect)
        leaderElectionNamespace = flags.string(Self.leaderElectionNamespace)
        leaderElectionID = try flags.requiredString(Self.leaderElectionID)
        func duration(_ flag: Flag) throws -> Duration {
            try flags.value(flag) { text in
                let value = try GoDuration(parsing: text)
                guard value > .zero else { throw FlagValueReason("must be more than zero") }
                return value.duration
            }
        }
        leaseDuration = try duration(Self.leaseDuration)
        renewDeadline = try duration(Self.renewDeadline)
        retryPeriod = try duration(Self.retryPeriod)
        signalPollInterval = try duration(Self.signalTTL)
        signalStaleLimit = try duration(Self.signalStaleLimit)
        workers = try flags.int(Self.workers)
        guard workers > 0 else { throw FlagValueReason("--workers must be at least 1") }
        qps = try flags.value(Self.qps) { text in
            guard let value = Double(text), value > 0 else { throw FlagValueReason("not a positive number") }
            return value
        }
        burst = try flags.int(Self.burst)
        logLevel = try flags.logLevel()
    }
}
