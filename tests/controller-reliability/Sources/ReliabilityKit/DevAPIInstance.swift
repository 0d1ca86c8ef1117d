import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
public import KarbonetesKubeClient
import KarbonetesKubeConfig
public import KarbonetesModels

/// A `karbonetes-devapi` process with its own data folder. It can be stopped and started
/// again on the same port with the same data folder (the "API server restart" fault), and
/// exposes the `/devapi/…` admin endpoints (faults, compaction, dropping watches).
public actor DevAPIInstance {
    public let directory: String
    public nonisolated let kubeconfigPath: String
    private let executable: String
    private let extraArguments: [String]
    private var process: ChildProcess?
    private var restarts = 0
    /// Stops that needed SIGKILL after the grace period (the data file may then be behind).
    public private(set) var forcedStops = 0
    public private(set) var port = 0
    public private(set) var url = ""

    public init(directory: String, executable: String, arguments: [String] = []) {
        self.directory = directory
        self.kubeconfigPath = directory + "/devapi-kubeconfig"
        self.executable = executable
        self.extraArguments = arguments
    }

    /// Starts it (the first time on a free port, later on the same one) and waits for its
    /// `ready on https://…` line.
    public func start() async throws {
        let pipe = Pipe()
        let listen = "127.0.0.1:\(port)"
        let child = try ChildProcess(
            name: "karbonetes-devapi", executable: executable,
            arguments: ["--listen", listen, "--data-dir", directory + "/devapi-data", "--kubeconfig-out", kubeconfigPath, "--log-level", "info"]
                + extraArguments,
            logFile: directory + "/devapi-\(restarts).log", captureStandardOutput: pipe)
        restarts += 1
        let line = await firstLine(of: pipe)
        guard let range = line.range(of: "ready on ") else {
            throw HarnessError.notReady("karbonetes-devapi", detail: "\(line) \(child.logTail())")
        }
        url = String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
        port = URL(string: url)?.port ?? 0
        process = child
    }

    /// SIGTERM: the server drains and writes its data file, as a rolling restart would.
    public func stop() async {
        if let process, await !process.stop() { forcedStops += 1 }
        process = nil
    }

    public func restart() async throws {
        await stop()
        try await start()
    }

    public var pid: Int32? { process?.pid }

    /// CPU seconds the running process has used (nil when it is stopped).
    public var cpuSeconds: Double? { process?.cpuSeconds() }

    /// A client straight to the API server (not through the recording proxy), for seeding and
    /// reading; its writes are not counted as the controller's.
    public nonisolated func client(qps: Double = 2_000, burst: Int = 4_000) throws -> KubeClient {
        try KubeClient(config: KubeConfigLoader.load(kubeconfigAt: kubeconfigPath), qps: qps, burst: burst, userAgent: "karbonetes-reliability")
    }

    /// Sets the fault rules (`PUT /devapi/faults`).
    public nonisolated func setFaults(_ rules: [JSONValue], client: KubeClient) async throws {
        try await admin(client, .put, "/devapi/faults", body: ["rules": .array(rules)])
    }

    /// Compacts the watch history: every watch that resumes from before now gets 410 Gone.
    public nonisolated func compact(client: KubeClient) async throws {
        try await admin(client, .post, "/devapi/compact")
    }

    /// Ends every open watch (of `resource`, or all).
    public nonisolated func dropWatches(client: KubeClient, resource: String? = nil) async throws {
        try await admin(client, .post, "/devapi/drop-watches" + (resource.map { "?resource=\($0)" } ?? ""))
    }

    private nonisolated func admin(_ client: KubeClient, _ method: HTTPMethod, _ target: String, body: JSONValue? = nil) async throws {
        let parts = target.split(separator: "?", maxSplits: 1)
        var request = HTTPClientRequest(method: method, path: String(parts[0]))
        if parts.count == 2 {
            request.query = parts[1].split(separator: "&").map { pair in
                let kv = pair.split(separator: "=", maxSplits: 1)
                return (name: String(kv[0]), value: kv.count > 1 ? String(kv[1]) : "")
            }
        }
        if let body {
            request.body = try KubernetesJSON.encoder.encode(body)
            request.headers.add("Content-Type", "application/json")
        }
        _ = try await client.send(verb: "admin", object: target, resource: .namespaces, request)
    }
}
