import Foundation
import KarbonetesKubeClient
import KarbonetesModels
import KarbonetesModelsTestKit
import Synchronization

/// The figures of one round at one size: a fresh API server, the controller's release of the
/// held Jobs and the raw loop's patches of as many.
public struct RoundFigures: Sendable {
    public var jobs: Int
    public var createSeconds: Double
    /// From the green flip until the watch saw the last Job released.
    public var releaseSeconds: Double
    /// Job writes (MODIFIED events on the held Jobs), from the flip until 2 s after the last release.
    public var writes: Int
    /// Writes the controller counted itself during the release (`karbonetes_controller_api_requests_total`,
    /// verbs patch and create): the Job patches and its Events.
    public var controllerWrites: Double
    /// From the first release to the last: the rate once the flip has been seen.
    public var releaseSpreadSeconds: Double
    public var peakRSSBytes: Int
    /// The same release patches sent straight to the API server by a loop with the same client and concurrency.
    public var rawPatchesPerSecond: Double
    /// CPU seconds each process spent in the controller's phase and in the raw loop's, so that
    /// a rate can be put down to the process that spent the machine.
    public var controllerPhaseCPU: PhaseCPU
    public var rawPhaseCPU: PhaseCPU

    /// Releases a second once the flip has been seen (first to last release), so that the
    /// signal poll interval does not count as slowness.
    public var releasesPerSecond: Double { Double(jobs - 1) / max(releaseSpreadSeconds, 0.001) }
    public var rateVersusRaw: Double { releasesPerSecond / rawPatchesPerSecond }
}

/// The rounds at one size. Rates are medians over the rounds, so that a moment when a
/// neighbour takes the machine (this is a shared VM) moves one round, not the figure; the
/// ratio is the median of the rounds' own ratios, each from a controller phase and a raw
/// phase run back to back.
public struct BenchmarkFigures: Sendable {
    public var jobs: Int
    public var workers: Int
    public var rounds: [RoundFigures]

    public var rateVersusRaw: Double { median(rounds.map(\.rateVersusRaw)) }

    /// `key=value` pairs, each key suffixed (`_1000`) so that several sizes fit one line.
    public func pairs(suffix: String) -> [String] {
        let total = Double(jobs * rounds.count)
        func perJob(_ cpu: (RoundFigures) -> Double) -> String { format(median(rounds.map(cpu)) * 1e6 / Double(jobs), digits: 0) }
        return [
            "jobs\(suffix)=\(jobs)", "rounds\(suffix)=\(rounds.count)",
            "create_s\(suffix)=\(format(median(rounds.map(\.createSeconds))))", "release_s\(suffix)=\(format(median(rounds.map(\.releaseSeconds))))",
            "release_per_s\(suffix)=\(format(median(rounds.map(\.releasesPerSecond)), digits: 0))",
            "writes_per_job\(suffix)=\(format(Double(rounds.map(\.writes).reduce(0, +)) / total))",
            "controller_writes_per_job\(suffix)=\(format(rounds.map(\.controllerWrites).reduce(0, +) / total))",
            "peak_rss_mb\(suffix)=\(format(Double(rounds.map(\.peakRSSBytes).max() ?? 0) / 1_048_576, digits: 1))",
            "raw_patch_per_s\(suffix)=\(format(median(rounds.map(\.rawPatchesPerSecond)), digits: 0))",
            "rate_vs_raw\(suffix)=\(format(rateVersusRaw))",
            "rate_vs_raw_min\(suffix)=\(format(rounds.map(\.rateVersusRaw).min() ?? 0))",
            "rate_vs_raw_max\(suffix)=\(format(rounds.map(\.rateVersusRaw).max() ?? 0))",
            "controller_cpu_us_per_release\(suffix)=\(perJob { $0.controllerPhaseCPU.controller })",
            "devapi_cpu_us_per_release\(suffix)=\(perJob { $0.controllerPhaseCPU.apiServer })",
            "devapi_cpu_us_per_raw_patch\(suffix)=\(perJob { $0.rawPhaseCPU.apiServer })",
            "harness_cpu_us_per_release\(suffix)=\(perJob { $0.controllerPhaseCPU.harness })",
            "harness_cpu_us_per_raw_patch\(suffix)=\(perJob { $0.rawPhaseCPU.harness })",
        ]
    }

    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count.isMultiple(of: 2) ? (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2 : sorted[sorted.count / 2]
    }

    func format(_ value: Double, digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
}

/// CPU seconds spent by each process during one phase.
public struct PhaseCPU: Sendable {
    public var controller: Double = 0
    public var apiServer: Double = 0
    /// This process: the counting watch, and in the raw phase the patch loop.
    public var harness: Double = 0

    /// Reads the counters at the start of a phase; `finish` turns them into the phase's use.
    static func start(controller: ChildProcess?, apiServer: DevAPIInstance) async -> PhaseCPU {
        PhaseCPU(controller: controller?.cpuSeconds() ?? 0, apiServer: await apiServer.cpuSeconds ?? 0, harness: ChildProcess.cpuSeconds(statPath: "/proc/self/stat") ?? 0)
    }

    func finish(controller process: ChildProcess?, apiServer: DevAPIInstance) async -> PhaseCPU {
        let end = await PhaseCPU.start(controller: process, apiServer: apiServer)
        return PhaseCPU(controller: end.controller - controller, apiServer: end.apiServer - self.apiServer, harness: end.harness - harness)
    }
}

/// Where the benchmark's processes run on this machine.
public enum MachineLayout: String, Sendable, CaseIterable {
    /// The API server alone on CPU 0; the controller, the signal service and this harness on
    /// the others. In a cluster the API server has its own node, and the controller's CPU is
    /// not taken from it: the rate then says whether the controller keeps up with the API
    /// server, which is what "the controller is never the bottleneck" asks.
    case apiServerAlone = "api-server-alone"
    /// Every process on every CPU, as the operating system places them: whatever CPU the
    /// controller uses is taken from the API server, so the ratio also prices the controller's
    /// CPU against the API server's.
    case shared
}

/// `make bench-controller`: held Jobs in the API server, the signal flips green, and the
/// controller releases them all; then, in the same API server, the same JSON patches sent by a
/// plain loop, for the raw rate the controller is compared with.
public enum ControllerBenchmark {
    /// `rounds` rounds of `jobs` held Jobs in `layout`; even rounds run the raw loop first, so
    /// that a drift in the machine's speed during a round does not always favour one phase.
    public static func run(jobs: Int, workers: Int, layout: MachineLayout, rounds: Int, log: @escaping @Sendable (String) -> Void) async throws -> BenchmarkFigures {
        var results: [RoundFigures] = []
        for round in 1...max(1, rounds) {
            let figures = try await runRound(jobs: jobs, workers: workers, layout: layout, rawFirst: round.isMultiple(of: 2)) { log("round \(round): \($0)") }
            log(String(format: "round \(round): %.0f releases/s vs %.0f raw patches/s: %.2f", figures.releasesPerSecond, figures.rawPatchesPerSecond, figures.rateVersusRaw))
            results.append(figures)
        }
        return BenchmarkFigures(jobs: jobs, workers: workers, rounds: results)
    }

    static func runRound(jobs: Int, workers: Int, layout: MachineLayout, rawFirst: Bool, log: @escaping @Sendable (String) -> Void) async throws -> RoundFigures {
        let everyCPU = Array(0..<CPUAffinity.onlineCPUs)
        switch layout {
        case .apiServerAlone:
            guard everyCPU.count >= 2 else { throw HarnessError.setup("the api-server-alone layout needs two CPUs; this machine has \(everyCPU.count)") }
            // Before the environment starts anything, so that the signal service and the controller inherit it.
            try CPUAffinity.pin(process: getpid(), to: Array(everyCPU.dropFirst()))
        case .shared:
            try CPUAffinity.pin(process: getpid(), to: everyCPU)
        }
        // The API server's default-sized watch history: a write's cost grows with it (see rawPatchRate).
        return try await ScenarioEnvironment.run("bench-\(jobs)", devAPIArguments: ["--watch-history", "2000"]) { environment in
            if layout == .apiServerAlone {
                guard let pid = await environment.devAPI.pid else { throw HarnessError.setup("karbonetes-devapi is not running") }
                try CPUAffinity.pin(process: pid, to: [0])
            }
            let client = environment.client
            let namespace = "bench"
            let deadline = Date().addingTimeInterval(3_600)
            let plans = HeldJobs.plans(count: jobs, namespace: namespace, deadlines: deadline...deadline)
            try await environment.signal?.setGreen(false)
            let createStart = ContinuousClock.now
            try await HeldJobs.create(plans, client: client, parallelism: 32)
            let createSeconds = seconds(ContinuousClock.now - createStart)
            log("created \(jobs) held Jobs in \(String(format: "%.1f", createSeconds)) s")
            // The raw loop's Jobs exist from the start, so both phases run against a store of the same size.
            let rawPlans = HeldJobs.plans(count: jobs, namespace: "bench-raw", prefix: "raw", deadlines: deadline...deadline)
            try await HeldJobs.create(rawPlans, managed: false, client: client, parallelism: 32)

            let rawBefore = rawFirst ? try await rawPhase(environment: environment, workers: workers, log: log) : nil

            // The client-side limit is lifted so that it is not what is measured (the default, 50/s, would be).
            let controller = try environment.startController(leaderElect: false, workers: workers, qps: 100_000, burst: 100_000, direct: true)
            try await controller.waitUntilReady(timeout: .seconds(120))
            let settle = ContinuousClock.now + .seconds(120)
            while await controller.metric("karbonetes_controller_held_jobs") ?? 0 < Double(jobs), ContinuousClock.now < settle {
                try await Task.sleep(for: .milliseconds(200))
            }
            log("controller ready and holding \(Int(await controller.metric("karbonetes_controller_held_jobs") ?? 0)) Jobs")
            let writesBefore = await controllerWrites(controller)
            let controllerPhaseStart = await PhaseCPU.start(controller: controller.process, apiServer: environment.devAPI)

            let (counter, flip) = try await countReleases(of: Set(plans.map(\.key.name)), namespace: namespace, client: client, limit: .seconds(600), settle: .seconds(2)) {
                try await environment.signal?.setGreen(true)
            }
            let controllerPhaseCPU = await controllerPhaseStart.finish(controller: controller.process, apiServer: environment.devAPI)
            let last = counter.lastReleaseAt ?? ContinuousClock.now
            let releaseSeconds = seconds(last - flip)
            let spreadSeconds = seconds(last - (counter.firstReleaseAt ?? flip))
            let released = counter.released
            guard released == jobs else { throw HarnessError.request("the benchmark's release", detail: "only \(released) of \(jobs) released") }
            let writes = counter.writes
            let controllerWriteCount = await controllerWrites(controller) - writesBefore
            let peak = controller.process.peakResidentBytes() ?? 0
            let after = controller.process.residentBytes() ?? 0
            log(
                "released \(jobs) in \(String(format: "%.2f", releaseSeconds)) s after the flip (first to last: \(String(format: "%.2f", spreadSeconds)) s); "
                    + "\(writes) Job writes; \(Int(controllerWriteCount)) controller writes incl. Events; peak RSS \(peak / 1_048_576) MiB, "
                    + "\(after / 1_048_576) MiB 2 s after the last release")
            await controller.process.stop()

            let raw: (rate: Double, cpu: PhaseCPU)
            if let rawBefore { raw = rawBefore } else { raw = try await rawPhase(environment: environment, workers: workers, log: log) }
            let rawPhaseCPU = raw.cpu
            log(
                String(
                    format: "CPU µs per Job: controller phase: controller %.0f, API server %.0f, harness %.0f; raw phase: API server %.0f, harness (loop + watch) %.0f",
                    controllerPhaseCPU.controller * 1e6 / Double(jobs), controllerPhaseCPU.apiServer * 1e6 / Double(jobs), controllerPhaseCPU.harness * 1e6 / Double(jobs),
                    rawPhaseCPU.apiServer * 1e6 / Double(jobs), rawPhaseCPU.harness * 1e6 / Double(jobs)))
            return RoundFigures(
                jobs: jobs, createSeconds: createSeconds, releaseSeconds: releaseSeconds, writes: writes, controllerWrites: controllerWriteCount,
                releaseSpreadSeconds: spreadSeconds, peakRSSBytes: peak, rawPatchesPerSecond: raw.rate,
                controllerPhaseCPU: controllerPhaseCPU, rawPhaseCPU: rawPhaseCPU)
        }
    }

    /// The raw loop over the unmanaged held Jobs of `bench-raw`, with each process's CPU time.
    static func rawPhase(environment: ScenarioEnvironment, workers: Int, log: (String) -> Void) async throws -> (rate: Double, cpu: PhaseCPU) {
        let start = await PhaseCPU.start(controller: nil, apiServer: environment.devAPI)
        let rate = try await rawPatchRate(namespace: "bench-raw", workers: workers, client: environment.client)
        let cpu = await start.finish(controller: nil, apiServer: environment.devAPI)
        log("raw patch loop: \(String(format: "%.0f", rate)) patches/s with \(workers) concurrent senders")
        return (rate, cpu)
    }

    /// Sends each held Job of `namespace` (which the controller does not manage) the release
    /// patch the decision engine makes for a green signal (resourceVersion test included),
    /// `workers` at a time: the API server's rate for the controller's own writes. It is timed
    /// as the controller's releases are: first to last release as seen by the same counting
    /// watch, which the API server feeds and this process decodes in both phases alike.
    static func rawPatchRate(namespace: String, workers: Int, client: KubeClient) async throws -> Double {
        let held = try await HeldJobs.fetch(namespaces: [namespace], client: client)
        let now = Date()
        let signal = SignalReading.available(SignalFixture.green(region: "default", intensity: 80, at: now))
        let patches: [(ObjectKey, [JSONPatchOperation])] = held.values.map { job in
            let decision = ReleaseDecider.decide(job: job, policy: PolicyResolver.resolve(job: job, named: nil, fallback: nil), signal: signal, now: now)
            return (job.key, decision.patch)
        }
        let (counter, _) = try await countReleases(of: Set(patches.map(\.0.name)), namespace: namespace, client: client, limit: .seconds(60), settle: .zero) {
            var iterator = patches.makeIterator()
            try await withThrowingTaskGroup(of: Void.self) { senders in
                func addNext() -> Bool {
                    guard let (key, operations) = iterator.next() else { return false }
                    senders.addTask { _ = try await client.patch(Job.self, .jobs, namespace: key.namespace, name: key.name, patch: .json(operations)) }
                    return true
                }
                for _ in 0..<workers where !addNext() { break }
                while try await senders.next() != nil { _ = addNext() }
            }
        }
        guard counter.released == patches.count, let first = counter.firstReleaseAt, let last = counter.lastReleaseAt else {
            throw HarnessError.request("the raw patch loop", detail: "the watch saw \(counter.released) of \(patches.count) releases")
        }
        return Double(patches.count - 1) / max(seconds(last - first), 0.001)
    }

    /// Opens a watch on `namespace` from its current version, runs `start`, and counts every
    /// write to the Jobs named `names` until all are released (or `limit` passes), then for
    /// `settle` more, so that a second write would be seen. Both phases are timed through it,
    /// so the API server feeds, and this process decodes, the same watch in each. Returns the
    /// counts and the instant `start` was called.
    static func countReleases(
        of names: Set<String>, namespace: String, client: KubeClient, limit: Duration, settle: Duration, start: () async throws -> Void
    ) async throws -> (WriteCounter, ContinuousClock.Instant) {
        let startVersion = try await client.list(Job.self, .jobs, namespace: namespace, options: ListOptions(limit: 1)).metadata.resourceVersion
        let counter = WriteCounter(names: names)
        let watch = try await client.watch(CountedJob.self, .jobs, namespace: namespace, options: WatchOptions(resourceVersion: startVersion))
        let started = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await event in watch {
                    guard event.type == .modified, let job = event.object else { continue }
                    counter.record(job)
                }
            }
            let started = ContinuousClock.now
            try await start()
            let deadline = started + limit
            while counter.released < names.count, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            try await Task.sleep(for: settle)
            group.cancelAll()
            return started
        }
        return (counter, started)
    }

    static func controllerWrites(_ controller: ControllerInstance) async -> Double {
        let patches = await controller.metric("karbonetes_controller_api_requests_total", labelsContaining: "verb=\"patch\"") ?? 0
        let creates = await controller.metric("karbonetes_controller_api_requests_total", labelsContaining: "verb=\"create\"") ?? 0
        return patches + creates
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// The part of a Job the counting watch reads: its name, state annotation and `suspend`. The
/// harness shares the machine with what it measures, so its watch decodes no more than it
/// counts (a whole Job was a third of its CPU).
struct CountedJob: Codable, Sendable {
    struct Metadata: Codable, Sendable {
        var name: String?
        var annotations: [String: String]?
    }

    struct Spec: Codable, Sendable {
        var suspend: Bool?
    }

    var metadata: Metadata
    var spec: Spec?

    /// Released as ``ReleaseAudit/isReleased(_:)`` says of a whole Job.
    var isReleased: Bool {
        spec?.suspend != true && metadata.annotations?[CarbonAnnotations.state] == CarbonState.released.rawValue
    }
}

/// Counts writes to the benchmark's Jobs from a watch: each MODIFIED event is one write.
final class WriteCounter: Sendable {
    private struct State {
        var writes = 0
        var released: Set<String> = []
        var firstReleaseAt: ContinuousClock.Instant?
        var lastReleaseAt: ContinuousClock.Instant?
    }

    private let names: Set<String>
    private let state = Mutex(State())

    init(names: Set<String>) { self.names = names }

    func record(_ job: CountedJob) {
        guard let name = job.metadata.name, names.contains(name) else { return }
        let now = ContinuousClock.now
        state.withLock { state in
            state.writes += 1
            if job.isReleased, state.released.insert(name).inserted {
                if state.firstReleaseAt == nil { state.firstReleaseAt = now }
                state.lastReleaseAt = now
            }
        }
    }

    var writes: Int { state.withLock { $0.writes } }
    var released: Int { state.withLock { $0.released.count } }
    var firstReleaseAt: ContinuousClock.Instant? { state.withLock { $0.firstReleaseAt } }
    var lastReleaseAt: ContinuousClock.Instant? { state.withLock { $0.lastReleaseAt } }
}
