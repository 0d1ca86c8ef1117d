public import Foundation
import KarbonetesMetrics
import Synchronization
public import KarbonetesLogging
public import KarbonetesModels

/// Reconciles one held Job: reads it from the cache, asks the decision engine, and acts:
/// nothing, a requeue at the exact time the decision needs, or one guarded release patch.
///
/// Level-triggered and idempotent: the outcome depends on the Job, its policy, the signal and
/// the clock, never on what woke the reconcile; running it twice releases nothing twice (the
/// second run sees `state: released`, and a stale cache's patch fails its resourceVersion
/// guard with a conflict, after which the Job is re-read and decided again).
public struct JobReleaser: Sendable {
    /// What the work queue does with the key next.
    public enum Result: Sendable, Equatable {
        case done
        case requeue(after: TimeInterval)
        /// Retry with the queue's per-key backoff.
        case retry(String)
    }

    private let cache: any JobCache
    private let writer: any JobWriter
    private let policies: any PolicyLookup
    private let signal: any SignalProvider
    private let events: any EventSink
    private let pacer: ReleasePacer
    private let metrics: ControllerMetrics
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let announced = AnnouncedHolds()
    private let releases = ReleaseCount()

    /// Jobs this releaser has released since it was made, for the summary log line.
    public var releasedCount: Int { releases.count.load(ordering: .relaxed) }
    private let gaugeLabels = GaugeLabels()

    public init(
        cache: any JobCache, writer: any JobWriter, policies: any PolicyLookup, signal: any SignalProvider, events: any EventSink,
        pacer: ReleasePacer = ReleasePacer(), metrics: ControllerMetrics, logger: Logger, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.cache = cache
        self.writer = writer
        self.policies = policies
        self.signal = signal
        self.events = events
        self.pacer = pacer
        self.metrics = metrics
        self.logger = logger
        self.now = now
    }

    public func reconcile(_ key: ObjectKey) async -> Result {
        guard let cached = cache.job(key) else { return .done }
        return await reconcile(cached, attempt: 0)
    }

    /// `attempt` counts conflict re-reads, so a Job that keeps changing under us is retried with
    /// backoff instead of spinning.
    private func reconcile(_ job: Job, attempt: Int) async -> Result {
        let key = job.key
        let log = logger.with(["job.namespace": key.namespace ?? "", "job.name": key.name])
        let resolution = PolicyResolver.resolve(job: job, policies: policies)
        let policy = resolution.policy
        let reading = await signal.reading(region: policy.region)
        let forecast = policy.strategy == .forecast ? await signal.forecast(region: policy.region) : nil
        let current = now()
        let decision = ReleaseDecider.decide(job: job, policy: resolution, signal: reading, forecast: forecast, now: current)
        for warning in decision.warnings {
            await events.record(job, type: .warning, reason: "InvalidCarbonSettings", message: warning)
        }

        switch decision.action {
        case .leaveAlone:
            return .done
        case .wait(let until, let reason):
            log.debug("holding", metadata: ["reason": reason.rawValue, "until": RFC3339.format(until)])
            if let deadline = decision.deadline, announced.firstTime(job) {
                let why = reason == .signalUnavailable ? "the carbon signal is unavailable" : "the grid in region \(policy.region) is not green"
                await events.record(job, type: .normal, reason: "Deferred", message: "held because \(why); released at a green window or at \(RFC3339.format(deadline)) at the latest")
            }
            return .requeue(after: max(0.05, until.timeIntervalSince(current)))
        case .release(let pool, let kind, let reason):
            if reason.mayBePaced, let rate = policy.releaseRatePerMinute,
                let next = await pacer.reserve(policy: "\(key.namespace ?? "")/\(policy.policyName ?? "built-in")", ratePerMinute: rate, now: current)
            {
                let deadline = decision.deadline ?? next
                return .requeue(after: max(0.05, min(next, deadline).timeIntervalSince(current)))
            }
            var released = job
            do {
                released.metadata.resourceVersion = try await writer.patch(key, decision.patch)
            } catch {
                switch error.kind {
                case .notFound:
                    return .done
                case .conflict where attempt < 3:
                    log.debug("conflict releasing; re-reading", metadata: ["error": error.message])
                    do {
                        guard let fresh = try await writer.fetch(key) else { return .done }
                        return await reconcile(fresh, attempt: attempt + 1)
                    } catch {
                        metrics.reconcileErrors.increment()
                        return .retry(error.description)
                    }
                case .conflict, .transient:
                    metrics.reconcileErrors.increment()
                    return .retry(error.description)
                case .rejected:
                    metrics.reconcileErrors.increment()
                    log.error("the API server rejected the release patch", metadata: ["error": error.message])
                    await events.record(job, type: .warning, reason: "ReleaseFailed", message: "could not release the Job: \(error.message)")
                    return .retry(error.description)
                }
            }
            record(release: job, pool: pool, reason: reason, decision: decision, policy: policy, at: current)
            let message = Self.releaseMessage(pool: pool, kind: kind, reason: reason, intensity: decision.intensity)
            await events.record(released, type: .normal, reason: "Released", message: message)
            // Debug, not info: a line per release was 6% of the controller's CPU in a burst (perf);
            // the poll loop logs how many were released at info (see `releasedCount`).
            log.debug("released", metadata: ["pool": pool.name, "reason": reason.rawValue, "intensity": decision.intensity.map { String($0) } ?? ""])
            releases.count.add(1, ordering: .relaxed)
            return .done
        }
    }

    /// `original` is the Job as it was held (its submission time and intensity).
    private func record(release original: Job, pool: PoolDirective, reason: ReleaseReason, decision: ReleaseDecider.Decision, policy: ResolvedPolicy, at time: Date) {
        metrics.releases.increment(labels: ["reason": reason.rawValue, "pool": pool.name])
        if let created = original.metadata.annotation(CarbonAnnotations.cronJobScheduledTimestamp).flatMap(RFC3339.parse) ?? original.metadata.creationTimestamp {
            metrics.releaseDelay.observe(max(0, time.timeIntervalSince(created)))
        }
        if let deadline = decision.deadline {
            metrics.releasePastDeadline.observe(max(0, time.timeIntervalSince(deadline)))
        }
        if let energy = policy.estimatedEnergyKWh, let atRelease = decision.intensity,
            let submitted = original.metadata.annotation(CarbonAnnotations.intensityAtSubmission).flatMap(Double.init)
        {
            let avoided = (submitted - atRelease) * energy
            if avoided > 0 { metrics.emissionsAvoided.increment(by: avoided) }
        }
    }

    static func releaseMessage(pool: PoolDirective, kind: ReleaseDecider.PoolKind, reason: ReleaseReason, intensity: Double?) -> String {
        let at = intensity.map { " at \(Int($0.rounded())) gCO2eq/kWh" } ?? ""
        switch reason {
        case .greenWindow: return "released in a green window\(at) to NodePool \(pool.name)"
        case .forecastBest: return "released at the best forecast slot before the deadline\(at) to NodePool \(pool.name)"
        case .maxDelay: return "maxDelay reached: released to the fallback NodePool \(pool.name)\(at)"
        case .signalUnavailable: return "carbon signal unavailable: released to NodePool \(pool.name)"
        case .manual: return "released on request (carbon-aware.io/release-now) to NodePool \(pool.name)\(at)"
        }
    }

    /// Recomputes the held-Jobs gauges from the cache's held Jobs.
    public func updateHeldGauges() {
        updateHeldGauges(held: cache.heldJobs())
    }

    /// Recomputes the held-Jobs gauges from `held` (Jobs that are not held are skipped): per
    /// namespace and policy, and those past their deadline. A namespace and policy that no
    /// longer holds any Job goes to 0 (it kept its last count before). Called once a poll
    /// interval with the list the region wake read, so the cache is scanned once.
    public func updateHeldGauges(held: [Job]) {
        let current = now()
        var counts: [[String: String]: Int] = [:]
        var pastDeadline = 0
        for job in held where HeldJobs.isHeld(job) {
            let labels = ["namespace": job.metadata.namespace ?? "", "policy": PolicyResolver.requestedPolicyName(for: job)]
            counts[labels, default: 0] += 1
            if let deadline = job.metadata.annotation(CarbonAnnotations.deadline).flatMap(RFC3339.parse), deadline < current.addingTimeInterval(-30) {
                pastDeadline += 1
            }
        }
        for labels in gaugeLabels.replace(with: Set(counts.keys)) { metrics.heldJobs.set(0, labels: labels) }
        for (labels, count) in counts { metrics.heldJobs.set(Double(count), labels: labels) }
        metrics.heldPastDeadline.set(Double(pastDeadline))
    }
}

/// A count shared by the copies of a releaser (it is a struct).
final class ReleaseCount: Sendable {
    let count = Atomic<Int>(0)
}

/// The label sets the held gauge was last set for, so that those no longer counted are zeroed.
final class GaugeLabels: Sendable {
    private let current = Mutex<Set<[String: String]>>([])

    /// Stores `labels` and returns the label sets that were there and are not in it.
    func replace(with labels: Set<[String: String]>) -> Set<[String: String]> {
        current.withLock { current in
            defer { current = labels }
            return current.subtracting(labels)
        }
    }
}

/// Which held Jobs this process has already announced with a `Deferred` Event, so a Job gets
/// one per hold and not one per recheck (a restart announces again; the recorder aggregates).
final class AnnouncedHolds: Sendable {
    private let seen = Mutex<Set<String>>([])

    func firstTime(_ job: Job) -> Bool {
        let identity = job.metadata.uid ?? job.key.description
        return seen.withLock { seen in
            if seen.count > 100_000 { seen.removeAll() }
            return seen.insert(identity).inserted
        }
    }
}
