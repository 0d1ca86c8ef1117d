import Dispatch
import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
import KarbonetesKubeClient
import KarbonetesKubeConfig
import KarbonetesModels
import Testing

/// Where `karbonetes-devapi` is: `KARBONETES_DEVAPI`, else the repository's `bin/` (made by
/// `make devapi`), else the DevAPI package's own debug build. Nil when none is built.
let devAPIExecutable: String? = {
    // #filePath is <root>/shared/KarbonetesKube/Tests/KarbonetesKubeIntegrationTests/<file>.
    var root = #filePath as NSString
    for _ in 0..<5 { root = root.deletingLastPathComponent as NSString }
    var candidates: [String] = []
    if let explicit = ProcessInfo.processInfo.environment["KARBONETES_DEVAPI"] { candidates.append(explicit) }
    candidates.append(root.appendingPathComponent("bin/karbonetes-devapi"))
    candidates.append(root.appendingPathComponent("shared/KarbonetesDevAPI/.build/debug/karbonetes-devapi"))
    let found = candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    if found == nil {
        print(
            "KarbonetesKubeIntegrationTests: skipped: karbonetes-devapi is not built (run `make devapi`, or "
                + "`swift build --package-path ../KarbonetesDevAPI --product karbonetes-devapi`, or set KARBONETES_DEVAPI)")
    }
    return found
}()

/// One `karbonetes-devapi` process for a test, on a free port with its own data folder;
/// stopped with SIGTERM at the end.
final class DevAPIProcess: @unchecked Sendable {
    private let process = Process()
    private let output = Pipe()
    let directory: String
    var kubeconfig: String { directory + "/kubeconfig" }

    private let removesDirectory: Bool

    /// A new server; `directory` and `port` reuse another's data and address, for restarts.
    init(arguments: [String] = [], directory: String? = nil, port: Int = 0) throws {
        removesDirectory = directory == nil
        self.directory = directory ?? NSTemporaryDirectory() + "karbonetes-kube-devapi-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: devAPIExecutable ?? "/nonexistent")
        process.arguments =
            [
                "--listen", "127.0.0.1:\(port)", "--data-dir", self.directory + "/data", "--kubeconfig-out", self.directory + "/kubeconfig",
                "--log-level", "warning",
            ] + arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
    }

    /// Starts it and waits (off the cooperative pool) for its `ready on https://…` line.
    func start() async throws {
        try process.run()
        let handle = output.fileHandleForReading
        let line: String = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var bytes = Data()
                while true {
                    let chunk = handle.readData(ofLength: 1)
                    if chunk.isEmpty || chunk.first == UInt8(ascii: "\n") { break }
                    bytes.append(chunk)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
        guard line.contains("ready on") else { throw DevAPIStartFailure(line: line) }
    }

    /// SIGTERM, then waits for the exit on a dispatch thread, never on the cooperative pool
    /// (two threads here: a blocking `waitUntilExit()` on one of them stalled every other test
    /// task, which is how the informer soak flaked under load); the data folder is removed
    /// unless it was handed in.
    func stop() async {
        let process = self.process
        if process.isRunning {
            process.terminate()
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().async {
                    process.waitUntilExit()
                    continuation.resume()
                }
            }
        }
        if removesDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Never blocks (a deinit can run on the cooperative pool): a server that was not stopped
    /// gets SIGTERM, and its folder is removed once it has exited, on a dispatch thread.
    deinit {
        let process = self.process
        let folder = removesDirectory ? directory : nil
        guard process.isRunning || folder != nil else { return }
        if process.isRunning { process.terminate() }
        DispatchQueue.global().async {
            process.waitUntilExit()
            if let folder { try? FileManager.default.removeItem(atPath: folder) }
        }
    }

    /// A client from the kubeconfig the server wrote: the path a service takes.
    func client(qps: Double = 200, burst: Int = 400) throws -> KubeClient {
        try KubeClient(config: KubeConfigLoader.load(kubeconfigAt: kubeconfig), qps: qps, burst: burst, userAgent: "karbonetes-kube-tests")
    }

    /// Calls a `/devapi/…` admin endpoint (faults, compaction, dropping watches).
    func admin(
        _ client: KubeClient, _ method: String, _ path: String, query: [(name: String, value: String)] = [], body: JSONValue? = nil
    ) async throws {
        var request = HTTPClientRequest(method: HTTPMethod(method), path: path, query: query)
        if let body {
            request.body = try KubernetesJSON.encoder.encode(body)
            request.headers.add("Content-Type", "application/json")
        }
        _ = try await client.send(verb: "admin", object: path, resource: .namespaces, request)
    }
}

/// A TCP port nobody listens on right now, for a server that must come back on the same one.
func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
        }
    }
    guard bound else { throw DevAPIStartFailure(line: "no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

struct DevAPIStartFailure: Error, CustomStringConvertible {
    let line: String
    var description: String { "karbonetes-devapi did not start: \(line)" }
}

/// A real cluster to run the same tests against (`make test-envtest` points this at a
/// `kube-apiserver` started from `KUBEBUILDER_ASSETS`): its kubeconfig path, or nil.
let externalKubeconfig: String? = ProcessInfo.processInfo.environment["KARBONETES_TEST_KUBECONFIG"].flatMap { $0.isEmpty ? nil : $0 }

/// Whether the cluster tests can run at all.
let clusterAvailable = externalKubeconfig != nil || devAPIExecutable != nil

/// The API server one test talks to: a fresh `karbonetes-devapi`, or the external cluster of
/// `KARBONETES_TEST_KUBECONFIG`. Each test works in a namespace of its own, deleted at the end.
final class TestCluster: @unchecked Sendable {
    private let devapi: DevAPIProcess?
    let kubeconfig: String
    let namespace: String
    let client: KubeClient
    /// Fault injection and compaction exist only on `karbonetes-devapi`.
    var supportsFaults: Bool { devapi != nil }

    private init(devapi: DevAPIProcess?, kubeconfig: String) throws {
        self.devapi = devapi
        self.kubeconfig = kubeconfig
        self.namespace = "karbonetes-kube-test-" + UUID().uuidString.prefix(8).lowercased()
        self.client = try KubeClient(
            config: KubeConfigLoader.load(kubeconfigAt: kubeconfig), qps: 200, burst: 400, userAgent: "karbonetes-kube-tests")
    }

    /// Starts what the environment says; `devAPIArguments` only apply to `karbonetes-devapi`.
    static func start(devAPIArguments: [String] = []) async throws -> TestCluster {
        let cluster: TestCluster
        if let externalKubeconfig {
            cluster = try TestCluster(devapi: nil, kubeconfig: externalKubeconfig)
        } else {
            let devapi = try DevAPIProcess(arguments: devAPIArguments)
            try await devapi.start()
            cluster = try TestCluster(devapi: devapi, kubeconfig: devapi.kubeconfig)
        }
        _ = try await cluster.client.create(
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(cluster.namespace)]] as JSONValue, .namespaces)
        return cluster
    }

    /// Deletes the test's namespace (on a real cluster) and stops the dev API server.
    func stop() async {
        if let devapi {
            await devapi.stop()
        } else {
            try? await client.delete(.namespaces, name: namespace, options: DeleteOptions(propagationPolicy: .background))
        }
    }

    /// Calls a `/devapi/…` admin endpoint; only valid when ``supportsFaults``.
    func admin(_ method: String, _ path: String, query: [(name: String, value: String)] = [], body: JSONValue? = nil) async throws {
        try await devapi?.admin(client, method, path, query: query, body: body)
    }
}

/// A batch/v1 Job the dev API server accepts (it checks the pod template as the real one does).
func jobJSON(_ name: String, namespace: String = "default", labels: [String: String] = [:], suspend: Bool = true) -> JSONValue {
    [
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": .object(labels.mapValues { .string($0) })],
        "spec": [
            "suspend": .bool(suspend),
            "template": [
                "spec": ["restartPolicy": "Never", "containers": [["name": "main", "image": "busybox", "command": ["true"]]]]
            ],
        ],
    ]
}

/// Polls until the condition holds, or records an issue after the timeout.
func eventually(
    _ what: String, timeout: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async -> Bool
) async {
    let start = ContinuousClock.now
    while !(await condition()) {
        if ContinuousClock.now - start > timeout {
            Issue.record("timed out waiting for \(what)", sourceLocation: sourceLocation)
            return
        }
        try? await Task.sleep(for: .milliseconds(20))
    }
}
