import Dispatch
public import Foundation
public import KarbonetesCarbon
public import KarbonetesModels
import Synchronization

/// The strategies compared. The four in the middle are the decision engine itself, fed a
/// signal derived from the trace; `runNow` and `oracle` bound what any strategy can do.
public enum Strategy: String, Sendable, Hashable, CaseIterable, Codable {
    /// No carbon awareness: every Job starts when it arrives.
    case runNow
    /// `firstGreen` with the signal's green flag from a daily static window.
    case firstGreenStatic = "firstGreen-static"
    /// `firstGreen` with the policy's `greenThreshold`.
    case firstGreenThreshold = "firstGreen-threshold"
    /// `forecast` with the trace itself as the forecast.
    case forecastPerfect = "forecast-perfect"
    /// `forecast` with a noisy forecast (``ForecastNoise``).
    case forecastNoisy = "forecast-noisy"
    /// The best start in [arrival, arrival + maxDelay] knowing the whole trace: the lower bound.
    case oracle

    /// Whether the decision engine decides (as opposed to a reference bound).
    public var usesEngine: Bool { self != .runNow && self != .oracle }
}

/// Everything a run needs besides the trace and the Jobs.
public struct EvaluationSettings: Sendable, Hashable {
    /// The static strategy's green window (a ``GreenRule/dailyWindow(startSecond:endSecond:)``).
    public var staticWindow: GreenRule
    /// gCO2eq/kWh: the threshold strategy's `greenThreshold`, and the green flag of the
    /// forecast strategies' signal.
    public var threshold: Double
    public var forecastNoise: ForecastNoise
    /// Every Job draws this much power while it runs, so energy is proportional to duration.
    public var powerKW: Double

    public init(staticWindow: GreenRule, threshold: Double, forecastNoise: ForecastNoise, powerKW: Double = 1) {
        self.staticWindow = staticWindow
        self.threshold = threshold
        self.forecastNoise = forecastNoise
        self.powerKW = powerKW
    }
}

/// How one Job went under one strategy.
public struct JobRun: Sendable, Hashable {
    public var job: EvalJob
    public var start: Date
    public var emissionsGrams: Double
    /// `admitted-green`, `released/green-window`, `released/max-delay`, `oracle`, …
    public var outcome: String
    /// ReleaseDecider calls made for this Job (0 when admission let it run).
    public var reconciles: Int
    /// Set when the engine did something it must never do (a wait that does not move time
    /// forward, leaving a held Job alone); the Job is then counted as missing its deadline.
    public var fault: String?

    public init(job: EvalJob, start: Date, emissionsGrams: Double, outcome: String, reconciles: Int, fault: String? = nil) {
        self.job = job
        self.start = start
        self.emissionsGrams = emissionsGrams
        self.outcome = outcome
        self.reconciles = reconciles
        self.fault = fault
    }

    public var delay: TimeInterval { start.timeIntervalSince(job.arrival) }
    public var missedDeadline: Bool { fault != nil || start > job.deadline }
}

/// One strategy's runs.
public struct StrategyRun: Sendable {
    public var strategy: Strategy
    /// How the strategy's signal decides green, for the report.
    public var rule: String?
    public var runs: [JobRun]

    public init(strategy: Strategy, rule: String?, runs: [JobRun]) {
        self.strategy = strategy
        self.rule = rule
        self.runs = runs
    }
}

public enum Evaluation {
    /// Replays every Job under every strategy, in the order given. Strategies are independent,
    /// so they run on all cores (a CPU-bound caller's thread, not the cooperative pool).
    public static func run(trace: CarbonTrace, jobs: [EvalJob], settings: EvaluationSettings, strategies: [Strategy] = Strategy.allCases) -> [StrategyRun] {
        let results = Mutex<[StrategyRun?]>(Array(repeating: nil, count: strategies.count))
        DispatchQueue.concurrentPerform(iterations: strategies.count) { index in
            let result = run(strategies[index], trace: trace, jobs: jobs, settings: settings)
            results.withLock { $0[index] = result }
        }
        return results.withLock { $0.compactMap { $0 } }
    }

    public static func run(_ strategy: Strategy, trace: CarbonTrace, jobs: [EvalJob], settings: EvaluationSettings) -> StrategyRun {
        func emissions(_ job: EvalJob, _ start: Date) -> Double? {
            trace.integral(from: start, to: start.addingTimeInterval(job.duration)).map { $0 / 3600 * settings.powerKW }
        }
        func finished(_ job: EvalJob, start: Date, outcome: String, reconciles: Int = 0, fault: String? = nil) -> JobRun {
            guard let grams = emissions(job, start) else {
                return JobRun(job: job, start: start, emissionsGrams: 0, outcome: outcome, reconciles: reconciles,
                              fault: fault ?? "the run from \(RFC3339.format(start)) for \(goSpelling(job.duration)) goes past the trace's end")
            }
            return JobRun(job: job, start: start, emissionsGrams: grams, outcome: outcome, reconciles: reconciles, fault: fault)
        }
        switch strategy {
        case .runNow:
            return StrategyRun(strategy: strategy, rule: nil, runs: jobs.map { finished($0, start: $0.arrival, outcome: "run-now") })
        case .oracle:
            let runs = jobs.map { job in
                guard let window = trace.bestWindow(duration: job.duration, notBefore: job.arrival, notAfter: job.deadline) else {
                    return finished(job, start: job.arrival, outcome: "oracle", fault: "no window of \(goSpelling(job.duration)) fits in the trace")
                }
                return finished(job, start: window.start, outcome: "oracle")
            }
            return StrategyRun(strategy: strategy, rule: "best window in [arrival, arrival + maxDelay]", runs: runs)
        case .firstGreenStatic, .firstGreenThreshold, .forecastPerfect, .forecastNoisy:
            let replay = EngineReplay(strategy: strategy, trace: trace, settings: settings)
            let runs = jobs.map { job in
                let outcome = replay.replay(job)
                return finished(job, start: outcome.start, outcome: outcome.outcome, reconciles: outcome.reconciles, fault: outcome.fault)
            }
            return StrategyRun(strategy: strategy, rule: replay.signal.rule.description, runs: runs)
        }
    }
}

/// Drives one Job through the services' decision engine on a virtual clock: what the webhook
/// does at CREATE (`AdmissionDecider.decide`, whose JSON Patch is applied to the Job), then
/// what the controller does at every requeue time the engine asks for
/// (`ReleaseDecider.decide`), until it releases the Job.
public struct EngineReplay: Sendable {
    public let policy: CarbonAwarePolicy
    public let signal: TraceSignal
    public let usesForecast: Bool
    /// A held Job is reconciled at most every recheck interval; this bounds a broken engine.
    static let reconcileLimit = 1_000_000

    public struct Outcome: Sendable, Hashable {
        public var start: Date
        public var outcome: String
        public var reconciles: Int
        public var fault: String?
    }

    public init(strategy: Strategy, trace: CarbonTrace, settings: EvaluationSettings) {
        var spec = CarbonAwarePolicySpec(strategy: ReleaseStrategy.firstGreen.rawValue)
        let rule: GreenRule
        var noise: ForecastNoise?
        switch strategy {
        case .firstGreenStatic:
            rule = settings.staticWindow
        case .firstGreenThreshold:
            rule = .threshold(settings.threshold)
            spec.greenThreshold = settings.threshold
        case .forecastPerfect, .forecastNoisy:
            rule = .threshold(settings.threshold)
            spec.strategy = ReleaseStrategy.forecast.rawValue
            noise = strategy == .forecastNoisy ? settings.forecastNoise : nil
        case .runNow, .oracle:
            preconditionFailure("\(strategy.rawValue) does not use the decision engine")
        }
        policy = CarbonAwarePolicy(metadata: ObjectMeta(name: CarbonAwarePolicy.defaultName, namespace: "eval", generation: 1), spec: spec)
        signal = TraceSignal(trace: trace, rule: rule, noise: noise)
        usesForecast = strategy == .forecastPerfect || strategy == .forecastNoisy
    }

    /// The Job as a user (or the CronJob controller) submits it.
    static func submitted(_ evalJob: EvalJob) -> Job {
        var metadata = ObjectMeta(
            name: "eval-\(evalJob.index)", namespace: "eval", uid: "eval-\(evalJob.index)", resourceVersion: "1",
            creationTimestamp: evalJob.arrival,
            annotations: [CarbonAnnotations.enabled: CarbonAnnotations.trueValue, CarbonAnnotations.maxDelay: goSpelling(evalJob.maxDelay)])
        if evalJob.fromCronJob {
            metadata.annotations?[CarbonAnnotations.cronJobScheduledTimestamp] = RFC3339.format(evalJob.arrival)
            metadata.ownerReferences = [OwnerReference(apiVersion: "batch/v1", kind: "CronJob", name: "eval", uid: "eval-cronjob", controller: true, blockOwnerDeletion: true)]
        }
        return Job(metadata: metadata, spec: JobSpec(template: PodTemplateSpec(spec: PodSpec())))
    }

    public func replay(_ evalJob: EvalJob) -> Outcome {
        let job = Self.submitted(evalJob)
        let resolution = PolicyResolver.resolve(job: job, named: nil, fallback: policy)
        var now = evalJob.arrival
        func fault(_ problem: String, reconciles: Int) -> Outcome {
            Outcome(start: now, outcome: "fault", reconciles: reconciles, fault: "Job \(job.metadata.key) at \(RFC3339.format(now)): \(problem)")
        }

        let admission = AdmissionDecider.decide(job: job, policy: resolution, signal: signal.reading(at: now), now: now)
        let deadline: Date
        switch admission.outcome {
        case .admittedGreen: return Outcome(start: now, outcome: "admitted-green", reconciles: 0)
        case .bypassed(let reason, _): return Outcome(start: now, outcome: "bypassed/\(reason.rawValue)", reconciles: 0)
        case .unchanged(let exemption): return fault("admission left an opted-in Job unchanged (\(exemption.rawValue))", reconciles: 0)
        case .deferred(let until): deadline = until
        }
        var held: Job
        do {
            held = try JSONPatchApplier.apply(admission.patch, to: JSONValue(encoding: job)).decode(as: Job.self)
        } catch {
            return fault("the admission patch does not apply: \(error)", reconciles: 0)
        }
        held.metadata.resourceVersion = "2"

        for reconcile in 1...Self.reconcileLimit {
            let forecast = usesForecast ? signal.forecast(at: now, until: deadline) : nil
            let decision = ReleaseDecider.decide(job: held, policy: resolution, signal: signal.reading(at: now), forecast: forecast, now: now)
            switch decision.action {
            case .release(_, _, let reason):
                return Outcome(start: now, outcome: "released/\(reason.rawValue)", reconciles: reconcile)
            case .wait(let until, let reason):
                guard until > now else { return fault("wait (\(reason.rawValue)) until \(RFC3339.format(until)) does not move time forward", reconciles: reconcile) }
                now = until
            case .leaveAlone(let reason):
                return fault("the controller leaves a held Job alone (\(reason.rawValue))", reconciles: reconcile)
            }
        }
        return fault("still held after \(Self.reconcileLimit) reconciles", reconciles: Self.reconcileLimit)
    }
}
