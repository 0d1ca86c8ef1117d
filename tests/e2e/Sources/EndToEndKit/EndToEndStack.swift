public import Foundation
public import KarbonetesHTTP
public import KarbonetesHTTPClient
public import KarbonetesModels
import KarbonetesYAML
import Synchronization

/// One scenario's world: an API server (devapi or envtest), the signal service, the webhook
/// registered with it, and any number of controllers, each a separate process on loopback.
/// Every process is stopped when the scenario ends, passed or failed; their logs stay under
/// `tests/e2e/.build/e2e-runs/<api server>/<scenario>/`.
public final class EndToEndStack: Sendable {
    public let name: String
    public let directory: String
    public let apiServer: any APIServerUnderTest
    public let api: KubeAPI
    private let processes = ProcessTable()
    private let certificates: ServingCertificates

    /// The region every scenario's policy uses, and the one the signal's built-in mock serves.
    public static let region = "default"

    private init(
        name: String, directory: String, apiServer: any APIServerUnderTest, api: KubeAPI,
        certificates: ServingCertificates
    ) {
        self.name = name
        self.directory = directory
        self.apiServer = apiServer
        self.api = api
        self.certificates = certificates
    }

    /// Starts the API server, makes the webhook's certificates and installs the CRD, runs
    /// `body`, and stops everything; a failure carries the processes' log tails.
    public static func run<Result>(_ name: String, _ body: (EndToEndStack) async throws -> Result) async throws
        -> Result
    {
        let kind = APIServerKind.fromEnvironment()
        let directory = Repository.path("tests/e2e/.build/e2e-runs/\(kind.rawValue)/\(name)")
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let apiServer = try await APIServers.start(kind, in: directory)
        let stack: EndToEndStack
        do {
            let api = try KubeAPI(server: apiServer.url, caPEM: apiServer.caPEM, token: apiServer.token)
            let certificates = try await ServingCertificates.make(in: directory + "/webhook-certs")
            stack = EndToEndStack(
                name: name, directory: directory, apiServer: apiServer, api: api, certificates: certificates)
        } catch {
            await apiServer.stop()
            throw error
        }
        do {
            try await stack.installCRD()
            let result = try await body(stack)
            let problems = await stack.stop()
            // Every binary promises a clean exit 0 on SIGTERM (a Kubernetes rollout sends it).
            guard problems.isEmpty else { throw EndToEndError.unexpected(problems.joined(separator: "; ")) }
            return result
        } catch {
            let logs = stack.logTails()
            await stack.stop()
            throw EndToEndError.unexpected("scenario \(name) failed: \(error)\n\(logs)")
        }
    }

    /// Stops the controllers, the webhook and the signal with SIGTERM, then the API server;
    /// returns what did not exit 0 on SIGTERM (a process the scenario killed is not counted).
    @discardableResult
    public func stop() async -> [String] {
        var problems: [String] = []
        for process in processes.all.reversed() where !process.hasExited {
            let code = await process.terminate()
            if code != 0 {
                problems.append(
                    "\(process) " + (code.map { "exited \($0)" } ?? "did not exit within 10 s") + " on SIGTERM")
            }
        }
        await api.shutdown()
        await apiServer.stop()
        return problems
    }

    public func logTails() -> String {
        (processes.all.map { $0.logTail(lines: 25) } + [apiServer.logTails()]).joined(separator: "\n")
    }

    // MARK: Manifests

    /// A manifest from the repository (YAML, one document), as JSON.
    public static func manifest(_ relativePath: String) throws -> JSONValue {
        let path = Repository.path(relativePath)
        let data = try YAML.jsonData(from: try String(contentsOfFile: path, encoding: .utf8), file: path)
        return try KubernetesJSON.decoder.decode(JSONValue.self, from: data)
    }

    public func installCRD() async throws {
        let crd = try Self.manifest("deploy/helm/karbonetes/crds/carbonawarepolicies.carbon-aware.io.yaml")
        try await api.apply(crd)
        // The CRD's REST path is served once the API server has established it.
        try await Eventually.check("the CarbonAwarePolicy CRD to be served", timeout: .seconds(30)) {
            (try? await self.api.list(.policies, namespace: "default")) != nil
        }
    }

    /// Creates the namespace and its `default` CarbonAwarePolicy: the sample's, with short
    /// durations so scenarios take seconds (`maxDelay`, `recheckInterval: 1s`).
    public func prepareNamespace(
        _ namespace: String, maxDelay: String = "8s", onSignalUnavailable: String = "run", mode: String = "prefer"
    ) async throws {
        try await api.apply(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
        var policy = try Self.manifest("samples/carbonawarepolicy-default.yaml").settingName(
            "default", namespace: namespace)
        policy = policy.setting(["spec", "maxDelay"], to: .string(maxDelay))
            .setting(["spec", "recheckInterval"], to: "1s")
            .setting(["spec", "onSignalUnavailable"], to: .string(onSignalUnavailable))
            .setting(["spec", "mode"], to: .string(mode))
            .setting(["spec", "region"], to: .string(Self.region))
        try await api.apply(policy)
    }

    /// The carbon-aware sample Job under another name, with `max-delay` short.
    public static func carbonAwareJob(
        _ name: String, namespace: String, maxDelay: String = "8s", extraAnnotations: [String: String] = [:]
    ) throws -> JSONValue {
        var job = try manifest("samples/job-carbon-aware.yaml").settingName(name, namespace: namespace)
            .settingAnnotation(CarbonAnnotations.maxDelay, maxDelay)
        for (key, value) in extraAnnotations { job = job.settingAnnotation(key, value) }
        return job
    }

    public static func plainJob(_ name: String, namespace: String) throws -> JSONValue {
        try manifest("samples/job-plain.yaml").settingName(name, namespace: namespace)
    }

    // MARK: Signal

    public private(set) var signalPort: Int {
        get { processes.port("signal") ?? 0 }
        set { processes.setPort("signal", newValue) }
    }

    public var signalURL: String { "http://127.0.0.1:\(signalPort)" }

    /// Starts `karbonetes-signal --enable-demo-override` (the built-in static mock for region
    /// `default`), on the same port as before when restarted.
    public func startSignal() async throws {
        let port = signalPort == 0 ? try FreePort.next() : signalPort
        signalPort = port
        let process = try ChildProcess(
            name: "signal", executable: Repository.executable(.signal),
            arguments: ["--listen", "127.0.0.1:\(port)", "--enable-demo-override", "--log-level", "debug"],
            logDirectory: directory)
        processes.add(process)
        try await Eventually.check("signal /readyz", timeout: .seconds(20), process: process) {
            await PlainHTTP.status("http://127.0.0.1:\(port)/readyz") == 200
        }
    }

    /// Forces the region green or not through the demo override.
    public func setGreen(_ green: Bool) async throws {
        let body = try JSONEncoder().encode(
            SignalOverride(region: Self.region, green: green, intensity: green ? 90 : 420))
        let status = try await PlainHTTP.send(.put, "\(signalURL)/v1/override", body: body).status
        guard status == 200 else { throw EndToEndError.unexpected("PUT /v1/override answered \(status)") }
        // The webhook caches a reading for its --signal-cache-ttl and the controller polls every
        // --signal-poll-interval (both 500 ms here): after this, both have seen the flip.
        try await Task.sleep(for: .milliseconds(1_200))
    }

    /// `kill -9`: an outage, not a shutdown.
    public func killSignal() async throws {
        guard let process = processes.named("signal") else { throw EndToEndError.unexpected("no signal process") }
        await process.killHard()
    }

    // MARK: Webhook

    public var webhookPort: Int { processes.port("webhook") ?? 0 }

    /// Starts `karbonetes-webhook` serving the certificate from `scripts/demo/make-certs.sh`
    /// and waits for `/readyz` (its policy cache has listed once). `signalStaleLimit` bounds how
    /// long it keeps using the last good signal once the signal service is gone.
    public func startWebhook(signalCacheTTL: String = "500ms", signalStaleLimit: String? = nil) async throws {
        let port = webhookPort == 0 ? try FreePort.next() : webhookPort
        processes.setPort("webhook", port)
        let metricsPort = try FreePort.next()
        var arguments = [
            "--listen", "127.0.0.1:\(port)", "--tls-cert-file", certificates.certificateFile, "--tls-key-file",
            certificates.keyFile,
            "--signal-url", signalURL, "--kubeconfig", apiServer.kubeconfigPath, "--metrics-listen",
            "127.0.0.1:\(metricsPort)",
            "--log-level", "debug",
        ]
        let executable = Repository.executable(.webhook)
        if try await HelpText.flags(of: executable, directory: directory).contains("--signal-cache-ttl") {
            arguments += ["--signal-cache-ttl", signalCacheTTL]
        }
        if let signalStaleLimit { arguments += ["--signal-stale-limit", signalStaleLimit] }
        let process = try ChildProcess(
            name: "webhook", executable: executable, arguments: arguments, logDirectory: directory)
        processes.add(process)
        try await Eventually.check("webhook /readyz", timeout: .seconds(30), process: process) {
            await PlainHTTP.status("http://127.0.0.1:\(metricsPort)/readyz") == 200
        }
    }

    public func killWebhook() async throws {
        guard let process = processes.named("webhook") else { throw EndToEndError.unexpected("no webhook process") }
        await process.killHard()
    }

    /// Registers the webhook for Job CREATE, as the chart does, trusting the suite's CA.
    public func registerWebhook(failurePolicy: String = "Fail") async throws {
        let port = webhookPort
        let configuration: JSONValue = [
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": ["name": "karbonetes-e2e"],
            "webhooks": [
                [
                    "name": "jobs.carbon-aware.io", "admissionReviewVersions": ["v1"], "sideEffects": "None",
                    "timeoutSeconds": 5,
                    "failurePolicy": .string(failurePolicy), "matchPolicy": "Equivalent", "reinvocationPolicy": "Never",
                    "clientConfig": [
                        "url": .string("https://127.0.0.1:\(port)/mutate-batch-v1-job"),
                        "caBundle": .string(certificates.caCertificatePEM.base64EncodedString()),
                    ],
                    "rules": [
                        [
                            "apiGroups": ["batch"], "apiVersions": ["v1"], "resources": ["jobs"],
                            "operations": ["CREATE"], "scope": "Namespaced",
                        ]
                    ],
                    "namespaceSelector": [
                        "matchExpressions": [
                            ["key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]]
                        ]
                    ],
                ]
            ],
        ]
        if let existing = try await api.find(.webhookConfigurations, name: "karbonetes-e2e"), let name = existing.name {
            try await api.delete(.webhookConfigurations, name: name)
        }
        try await api.create(configuration)
    }

    /// Signal, webhook (registered) and one controller: what most scenarios start from.
    public func startServices(failurePolicy: String = "Fail", controller: Bool = true, signalStaleLimit: String? = nil)
        async throws
    {
        try await startSignal()
        try await startWebhook(signalStaleLimit: signalStaleLimit)
        try await registerWebhook(failurePolicy: failurePolicy)
        if controller { try await startController(signalStaleLimit: signalStaleLimit) }
    }

    // MARK: Controller

    /// Starts a `karbonetes-controller`; with `leaderElect`, short lease timings so that a
    /// take-over happens within seconds.
    @discardableResult
    public func startController(
        _ name: String = "controller", leaderElect: Bool = false, namespace: String = "default",
        signalStaleLimit: String? = nil
    ) async throws -> ChildProcess {
        let metricsPort = try FreePort.next()
        processes.setPort(name, metricsPort)
        var arguments = [
            "--signal-url", signalURL, "--kubeconfig", apiServer.kubeconfigPath, "--metrics-listen",
            "127.0.0.1:\(metricsPort)",
            "--log-level", "debug",
        ]
        if leaderElect {
            arguments += [
                "--leader-elect=true", "--leader-election-namespace", namespace, "--lease-duration", "3s",
                "--renew-deadline", "2s",
                "--retry-period", "500ms",
            ]
        } else {
            arguments += ["--leader-elect=false"]
        }
        let executable = Repository.executable(.controller)
        // A green flip reaches held Jobs within the signal poll: keep it short.
        if try await HelpText.flags(of: executable, directory: directory).contains("--signal-poll-interval") {
            arguments += ["--signal-poll-interval", "500ms"]
        }
        if let signalStaleLimit { arguments += ["--signal-stale-limit", signalStaleLimit] }
        let process = try ChildProcess(
            name: name, executable: executable, arguments: arguments, logDirectory: directory)
        processes.add(process)
        try await Eventually.check("\(name) /healthz", timeout: .seconds(30), process: process) {
            await PlainHTTP.status("http://127.0.0.1:\(metricsPort)/healthz") == 200
        }
        return process
    }

    public func process(_ name: String) -> ChildProcess? { processes.named(name) }

    /// The value of an unlabelled (or the sum of a labelled) metric on a process's metrics port.
    public func metric(_ metric: String, of processName: String) async throws -> Double {
        guard let port = processes.port(processName) else {
            throw EndToEndError.unexpected("no metrics port for \(processName)")
        }
        let text = String(
            decoding: try await PlainHTTP.send(.get, "http://127.0.0.1:\(port)/metrics").body, as: UTF8.self)
        return PrometheusText.sum(metric, in: text)
    }

    // MARK: Jobs

    /// Polls the Job until `condition` holds, returning it.
    @discardableResult
    public func waitForJob(
        _ name: String, namespace: String, _ what: String, timeout: Duration = .seconds(20),
        _ condition: @escaping (JSONValue) -> Bool
    ) async throws -> JSONValue {
        try await Eventually.value("Job \(namespace)/\(name) \(what)", timeout: timeout, interval: .milliseconds(200)) {
            guard let job = try await self.api.find(.jobs, namespace: namespace, name: name) else { return nil }
            return condition(job) ? .some(job) : .none
        }
    }

    /// The Events the API server holds for one object with `reason`.
    public func events(namespace: String, object: String, reason: String) async throws -> [JSONValue] {
        try await api.list(.events, namespace: namespace).filter {
            $0["involvedObject"]?["name"]?.stringValue == object && $0["reason"]?.stringValue == reason
        }
    }
}

/// The processes a stack started, in order, and the ports each listens on.
final class ProcessTable: Sendable {
    private let state = Mutex<(processes: [ChildProcess], ports: [String: Int])>(([], [:]))

    func add(_ process: ChildProcess) { state.withLock { $0.processes.append(process) } }
    var all: [ChildProcess] { state.withLock { $0.processes } }
    /// The newest process with that name (a restarted one replaces the old in lookups).
    func named(_ name: String) -> ChildProcess? { state.withLock { $0.processes.last { $0.name == name } } }
    func port(_ name: String) -> Int? { state.withLock { $0.ports[name] } }
    func setPort(_ name: String, _ port: Int) { state.withLock { $0.ports[name] = port } }
}

/// Plain-HTTP calls to the signal service and the metrics ports.
public enum PlainHTTP {
    public static func send(_ method: HTTPMethod, _ url: String, body: Data? = nil) async throws -> HTTPClientResponse {
        guard let parsed = URL(string: url), let host = parsed.host, let port = parsed.port else {
            throw EndToEndError.unexpected("not a URL with host and port: \(url)")
        }
        let client = try HTTPClient(
            configuration: HTTPClientConfiguration(
                baseURL: URL(string: "http://\(host):\(port)")!, connectTimeout: .seconds(2),
                requestTimeout: .seconds(5), maxIdleConnections: 0))
        var headers = HTTPHeaders()
        if body != nil { headers.add("Content-Type", "application/json") }
        let query =
            URLComponents(url: parsed, resolvingAgainstBaseURL: false)?.queryItems?.map {
                (name: $0.name, value: $0.value ?? "")
            } ?? []
        do {
            let response = try await client.execute(
                HTTPClientRequest(method: method, path: parsed.path, query: query, headers: headers, body: body))
            await client.shutdown()
            return response
        } catch {
            await client.shutdown()
            throw error
        }
    }

    public static func status(_ url: String) async -> Int? { try? await send(.get, url).status }
}

/// Reading one metric out of the Prometheus text exposition.
public enum PrometheusText {
    /// The sum over every series of `metric` (0 when absent).
    public static func sum(_ metric: String, in text: String) -> Double {
        var total = 0.0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let name = line.prefix { $0 != "{" && $0 != " " }
            guard name == metric, let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            total += value
        }
        return total
    }
}

/// The flags an executable's `--help` lists, so the suite passes an optional tuning flag
/// only to a binary that has it.
enum HelpText {
    static func flags(of executable: String, directory: String) async throws -> Set<String> {
        let name = "help-" + URL(fileURLWithPath: executable).lastPathComponent
        let child = try ChildProcess(name: name, executable: executable, arguments: ["--help"], logDirectory: directory)
        _ = try await child.waitForExit(timeout: .seconds(10))
        let words = child.standardOutput.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "=" || $0 == "," })
        return Set(words.filter { $0.hasPrefix("--") }.map(String.init))
    }
}
