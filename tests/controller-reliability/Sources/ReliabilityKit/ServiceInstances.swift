import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient

/// Plain-HTTP calls to a local service (the signal's API, the controller's `/metrics`).
struct LocalHTTP: Sendable {
    let client: HTTPClient

    init(port: Int) throws {
        client = try HTTPClient(
            configuration: HTTPClientConfiguration(
                baseURL: URL(string: "http://127.0.0.1:\(port)")!, connectTimeout: .seconds(1), requestTimeout: .seconds(5), userAgent: "karbonetes-reliability"))
    }

    func get(_ path: String) async throws -> HTTPClientResponse {
        try await client.execute(HTTPClientRequest(method: .get, path: path))
    }

    /// Polls `path` until it answers 200.
    func waitUntilOK(_ path: String, timeout: Duration, component: String, log: @Sendable () -> String) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let response = try? await get(path), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError.notReady(component, detail: "\(path) did not answer 200 within \(timeout)\n\(log())")
    }
}

/// `karbonetes-signal` with the built-in static mock and the demo override, which the
/// scenarios use to hold the region not green and then flip it green at a chosen moment.
public final class SignalInstance: Sendable {
    public let port: Int
    public let process: ChildProcess
    private let http: LocalHTTP

    public init(executable: String, directory: String) async throws {
        port = try freeLocalPort()
        process = try ChildProcess(
            name: "karbonetes-signal", executable: executable,
            arguments: ["--listen", "127.0.0.1:\(port)", "--enable-demo-override", "--log-level", "warning"], logFile: directory + "/signal.log")
        http = try LocalHTTP(port: port)
        let process = self.process
        try await http.waitUntilOK("/readyz", timeout: .seconds(20), component: "karbonetes-signal") { process.logTail() }
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// Forces region `default` green or not (`PUT /v1/override`).
    public func setGreen(_ green: Bool) async throws {
        let body = Data(#"{"region":"default","green":\#(green)}"#.utf8)
        let response = try await http.client.execute(
            HTTPClientRequest(method: .put, path: "/v1/override", headers: ["Content-Type": "application/json"], body: body))
        guard (200..<300).contains(response.status) else {
            throw HarnessError.request("PUT /v1/override on karbonetes-signal", detail: "\(response.status) \(String(decoding: response.body, as: UTF8.self))")
        }
    }

    public func stop() async { await process.stop() }
}

/// The controller's timing flags, short for tests.
public struct ControllerTiming: Sendable {
    public var leaseDuration: Duration
    public var renewDeadline: Duration
    public var retryPeriod: Duration
    /// `--signal-poll-interval`: a green flip reaches every held Job within it.
    public var signalPollInterval: Duration

    public init(leaseDuration: Duration = .seconds(2), renewDeadline: Duration = .milliseconds(1_500), retryPeriod: Duration = .milliseconds(250), signalPollInterval: Duration = .seconds(1)) {
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
        self.signalPollInterval = signalPollInterval
    }

    static func goText(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
        return "\(milliseconds)ms"
    }
}

/// One `karbonetes-controller` process, with its metrics port for readiness and leadership.
public final class ControllerInstance: Sendable {
    public let process: ChildProcess
    public let metricsPort: Int
    private let http: LocalHTTP

    public init(
        executable: String, kubeconfig: String, signalURL: String, directory: String, index: Int, timing: ControllerTiming,
        leaderElect: Bool = true, workers: Int = 4, qps: Int = 1_000, burst: Int = 2_000, extraArguments: [String] = []
    ) throws {
        metricsPort = try freeLocalPort()
        process = try ChildProcess(
            name: "karbonetes-controller-\(index)", executable: executable,
            arguments: [
                "--signal-url", signalURL, "--kubeconfig", kubeconfig, "--metrics-listen", "127.0.0.1:\(metricsPort)",
                "--leader-elect=\(leaderElect)", "--leader-election-namespace", "default", "--leader-election-id", "karbonetes-controller",
                "--lease-duration", ControllerTiming.goText(timing.leaseDuration), "--renew-deadline", ControllerTiming.goText(timing.renewDeadline),
                "--retry-period", ControllerTiming.goText(timing.retryPeriod), "--signal-poll-interval", ControllerTiming.goText(timing.signalPollInterval),
                "--signal-stale-limit", "2s", "--workers", String(workers), "--kube-api-qps", String(qps), "--kube-api-burst", String(burst),
                "--log-level", "info",
            ] + extraArguments,
            logFile: directory + "/controller-\(index).log")
        http = try LocalHTTP(port: metricsPort)
    }

    /// True when its `/metrics` says it leads (`karbonetes_controller_is_leader 1`); false
    /// when it says otherwise or does not answer.
    public func isLeader() async -> Bool {
        guard let value = await metric("karbonetes_controller_is_leader") else { return false }
        return value == 1
    }

    /// The value of an unlabelled series (or the sum of a labelled metric's series).
    public func metric(_ name: String, labelsContaining filter: String? = nil) async -> Double? {
        guard let response = try? await http.get("/metrics"), response.status == 200 else { return nil }
        return Self.sum(of: name, in: String(decoding: response.body, as: UTF8.self), labelsContaining: filter)
    }

    /// Sums the samples of `name` in a Prometheus text exposition.
    static func sum(of name: String, in text: String, labelsContaining filter: String?) -> Double? {
        var total: Double?
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard line.hasPrefix(name + " ") || line.hasPrefix(name + "{") else { continue }
            if let filter, !line.contains(filter) { continue }
            guard let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            total = (total ?? 0) + value
        }
        return total
    }

    public func waitUntilReady(timeout: Duration = .seconds(30)) async throws {
        let process = self.process
        try await http.waitUntilOK("/readyz", timeout: timeout, component: process.name) { process.logTail() }
    }
}
