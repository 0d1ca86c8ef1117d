public import Foundation
import KarbonetesModels
import KarbonetesYAML

/// Which API server the scenarios run against: the project's `karbonetes-devapi` (the
/// default, part of `make test`) or a real `kube-apiserver` + `etcd` from
/// `KUBEBUILDER_ASSETS` (`make test-envtest`), chosen by `KARBONETES_E2E_APISERVER`.
public enum APIServerKind: String, Sendable, CaseIterable {
    case devapi
    case envtest

    /// Whether a CronJob controller will run with the selected API server, for the CronJob
    /// scenario's `.enabled(if:)`: devapi has one; envtest only with kube-controller-manager.
    public static var selectedRunsCronJobs: Bool {
        switch fromEnvironment() {
        case .devapi: return true
        case .envtest:
            return EnvtestUnderTest.assets().map {
                FileManager.default.isExecutableFile(atPath: $0 + "/kube-controller-manager")
            } ?? false
        }
    }

    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        -> APIServerKind
    {
        APIServerKind(rawValue: environment["KARBONETES_E2E_APISERVER"] ?? "") ?? .devapi
    }
}

/// What a scenario needs from the API server it runs against: where it is, how to trust and
/// authenticate to it (as a kubeconfig file for the services, and as values for the suite),
/// and whether CronJobs create Jobs there.
public protocol APIServerUnderTest: AnyObject, Sendable {
    var kind: APIServerKind { get }
    var url: URL { get }
    var caPEM: Data { get }
    var token: String { get }
    var kubeconfigPath: String { get }
    /// True when a CronJob controller runs (devapi `--cronjobs`, or kube-controller-manager).
    var runsCronJobs: Bool { get }
    /// Stops every process it started (SIGTERM, then SIGKILL).
    func stop() async
    /// The stderr tails of its processes, for a failing scenario's message.
    func logTails() -> String
}

/// Starts the API server the environment selects, in `directory`.
public enum APIServers {
    public static func start(_ kind: APIServerKind = .fromEnvironment(), in directory: String) async throws
        -> any APIServerUnderTest
    {
        switch kind {
        case .devapi: return try await DevAPIUnderTest.start(in: directory)
        case .envtest: return try await EnvtestUnderTest.start(in: directory)
        }
    }
}

/// `karbonetes-devapi --job-lifecycle --cronjobs` on a free loopback port with a fresh data
/// directory; ready when it prints its URL.
public final class DevAPIUnderTest: APIServerUnderTest {
    public let kind = APIServerKind.devapi
    public let url: URL
    public let caPEM: Data
    public let token: String
    public let kubeconfigPath: String
    public let runsCronJobs = true
    let process: ChildProcess

    init(url: URL, caPEM: Data, token: String, kubeconfigPath: String, process: ChildProcess) {
        self.url = url
        self.caPEM = caPEM
        self.token = token
        self.kubeconfigPath = kubeconfigPath
        self.process = process
    }

    static func start(in directory: String) async throws -> DevAPIUnderTest {
        let kubeconfig = directory + "/kubeconfig"
        let process = try ChildProcess(
            name: "devapi", executable: Repository.executable(.devapi),
            arguments: [
                "--listen", "127.0.0.1:0", "--data-dir", directory + "/devapi-data", "--kubeconfig-out", kubeconfig,
                "--job-lifecycle", "--job-duration", "1h", "--cronjobs", "--bookmark-interval", "2s",
            ],
            logDirectory: directory)
        let prefix = "karbonetes-devapi ready on "
        let line = try await Eventually.value("devapi to print its URL", timeout: .seconds(30), process: process) {
            process.standardOutput.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init)
        }
        guard let url = URL(string: String(line.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)) else {
            throw EndToEndError.unexpected("devapi printed an unreadable URL: \(line)")
        }
        let credentials = try Kubeconfigs.credentials(in: kubeconfig)
        return DevAPIUnderTest(
            url: url, caPEM: credentials.caPEM, token: credentials.token, kubeconfigPath: kubeconfig, process: process)
    }

    public func stop() async {
        await process.terminate()
    }

    public func logTails() -> String { process.logTail() }
}

/// Reading and writing the one-cluster kubeconfigs the suite deals with.
public enum Kubeconfigs {
    public static func credentials(in path: String) throws -> (server: String, caPEM: Data, token: String) {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let value = try YAML.parse(text, file: path)
        guard let server = value["clusters"]?[0]?["cluster"]?["server"]?.stringValue,
            let caText = value["clusters"]?[0]?["cluster"]?["certificate-authority-data"]?.stringValue,
            let caPEM = Data(base64Encoded: caText),
            let token = value["users"]?[0]?["user"]?["token"]?.stringValue
        else { throw EndToEndError.unexpected("\(path) lacks a server, certificate-authority-data or token") }
        return (server, caPEM, token)
    }

    public static func write(to path: String, server: URL, caPEM: Data, token: String) throws {
        let text = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: e2e
              cluster:
                server: \(server.absoluteString)
                certificate-authority-data: \(caPEM.base64EncodedString())
            users:
            - name: e2e
              user:
                token: \(token)
            contexts:
            - name: e2e
              context:
                cluster: e2e
                user: e2e
                namespace: default
            current-context: e2e

            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
