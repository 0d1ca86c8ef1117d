public import Foundation
public import KarbonetesKubeClient
import KarbonetesModels
import Synchronization

/// Everything one scenario runs against: a fresh `karbonetes-devapi`, the recording proxy in
/// front of it, optionally `karbonetes-signal`, and the controllers it starts. Everything is
/// stopped when the scenario's body returns or throws.
public final class ScenarioEnvironment: Sendable {
    public let directory: String
    public let devAPI: DevAPIInstance
    public let proxy: RecordingProxy
    /// Straight to the API server, for seeding and reading (not counted).
    public let client: KubeClient
    public let signal: SignalInstance?
    public let timing: ControllerTiming
    private let controllers = Mutex<[ControllerInstance]>([])
    private let controllerExecutable: String

    init(directory: String, devAPI: DevAPIInstance, proxy: RecordingProxy, client: KubeClient, signal: SignalInstance?, timing: ControllerTiming, controllerExecutable: String) {
        self.directory = directory
        self.devAPI = devAPI
        self.proxy = proxy
        self.client = client
        self.signal = signal
        self.timing = timing
        self.controllerExecutable = controllerExecutable
    }

    /// Runs `body` in a fresh environment. Fails with a message when the binaries are not
    /// built. Keeps the folder (logs of every process) when `KARBONETES_RELIABILITY_KEEP` is set,
    /// when the body throws, or when `keepFolderIf` says so of its result.
    public static func run<Result: Sendable>(
        _ name: String, withSignal: Bool = true, devAPIArguments: [String] = [], timing: ControllerTiming = ControllerTiming(),
        keepFolderIf keep: @Sendable (Result) -> Bool = { _ in false },
        _ body: @Sendable (ScenarioEnvironment) async throws -> Result
    ) async throws -> Result {
        guard let controller = Binaries.controller, let devAPIBinary = Binaries.devAPI, let signalBinary = Binaries.signal else {
            throw HarnessError.setup(Binaries.missing ?? "binaries missing")
        }
        let directory = NSTemporaryDirectory() + "karbonetes-reliability-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let devAPI = DevAPIInstance(directory: directory, executable: devAPIBinary, arguments: ["--watch-history", "200000"] + devAPIArguments)
        try await devAPI.start()
        let proxy: RecordingProxy
        let client: KubeClient
        do {
            proxy = try RecordingProxy(upstreamKubeconfig: devAPI.kubeconfigPath, directory: directory)
            client = try devAPI.client()
            try await HeldJobs.installPolicyCRD(client: client)
        } catch {
            await devAPI.stop()
            throw error
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await proxy.run() }
            var signal: SignalInstance?
            let outcome: Swift.Result<Result, any Error>
            do {
                if withSignal { signal = try await SignalInstance(executable: signalBinary, directory: directory) }
                let environment = ScenarioEnvironment(
                    directory: directory, devAPI: devAPI, proxy: proxy, client: client, signal: signal, timing: timing, controllerExecutable: controller)
                do {
                    outcome = .success(try await body(environment))
                } catch {
                    outcome = .failure(error)
                }
                await environment.stopControllers()
            } catch {
                outcome = .failure(error)
            }
            await signal?.stop()
            await devAPI.stop()
            group.cancelAll()
            if ProcessInfo.processInfo.environment["KARBONETES_RELIABILITY_KEEP"] == nil, case .success(let result) = outcome, !keep(result) {
                try? FileManager.default.removeItem(atPath: directory)
            }
            return try outcome.get()
        }
    }

    /// Starts a controller that talks to the API server through the proxy (or, `direct`,
    /// straight to it, as the benchmark does so that the proxy costs it nothing).
    public func startController(
        leaderElect: Bool = true, signalURL: String? = nil, workers: Int = 4, qps: Int = 1_000, burst: Int = 2_000, direct: Bool = false
    ) throws -> ControllerInstance {
        let index = controllers.withLock { $0.count }
        let url = signalURL ?? signal?.url ?? "http://127.0.0.1:1"
        let instance = try ControllerInstance(
            executable: controllerExecutable, kubeconfig: direct ? devAPI.kubeconfigPath : proxy.kubeconfigPath, signalURL: url, directory: directory,
            index: index, timing: timing, leaderElect: leaderElect, workers: workers, qps: qps, burst: burst)
        controllers.withLock { $0.append(instance) }
        return instance
    }

    func stopControllers() async {
        for controller in controllers.withLock({ $0 }) { await controller.process.stop(grace: .seconds(3)) }
    }

    /// Waits until `controller` says it leads; returns when it was first seen leading, or nil
    /// after `timeout`.
    public func waitForLeadership(_ controller: ControllerInstance, timeout: Duration) async -> Date? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await controller.isLeader() { return Date() }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Waits until every planned Job is released, or `timeout` passes, calling `whileWaiting`
    /// (the supervisor) between polls.
    public func waitForReleases(_ plans: [HeldJobPlan], timeout: Duration, whileWaiting: () async throws -> Void = {}) async throws {
        let deadline = ContinuousClock.now + timeout
        var nextPoll = ContinuousClock.now
        while ContinuousClock.now < deadline {
            try await whileWaiting()
            if ContinuousClock.now >= nextPoll {
                if try await HeldJobs.releasedCount(plans, client: client) == plans.count { return }
                nextPoll = ContinuousClock.now + .milliseconds(250)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Reads the end state and audits it against the proxy's record of writes.
    public func audit(_ plans: [HeldJobPlan], expectations: ReleaseExpectations) async throws -> ReleaseAuditReport {
        let jobs = try await HeldJobs.fetch(namespaces: Set(plans.compactMap(\.key.namespace)), client: client)
        return ReleaseAudit.audit(plans: plans, finalJobs: jobs, writes: proxy.writes, expectations: expectations)
    }

    /// The last lines of every controller's log, for a failure message.
    public func controllerLogs(lines: Int = 6) -> String {
        controllers.withLock { $0 }.map { "--- \($0.process.name) (\($0.process.logFile))\n\($0.process.logTail(lines: lines))" }.joined(separator: "\n")
    }
}
