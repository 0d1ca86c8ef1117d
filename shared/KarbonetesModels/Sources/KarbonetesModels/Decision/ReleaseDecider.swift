public import Foundation

/// The reconcile half of the decision engine: what the controller does with a held Job now.
/// A pure function of (Job, policy, signal, forecast, now); the controller reads, calls this,
/// writes the patch it returns and requeues the key for the time it says. Level-triggered:
/// the answer depends only on the state passed in, never on what woke the reconcile.
public enum ReleaseDecider {
    /// Parsed once, not on every release (a pointer literal is parsed each time it is evaluated).
    static let resourceVersionPath: JSONPointer = "/metadata/resourceVersion"
    static let suspendPath: JSONPointer = "/spec/suspend"

    /// Why the controller does nothing to a Job, and never will unless it changes.
    public enum LeaveAloneReason: String, Sendable, Hashable {
        case notHeld = "not-held"
        case finished
        case beingDeleted = "being-deleted"
        /// A user unsuspended the Job by hand: Karbonetes does not fight them.
        case unsuspendedByUser = "unsuspended-by-user"
        /// The Job ran before (it has a start time): its scheduling can no longer change.
        case alreadyStarted = "already-started"
    }

    public enum WaitReason: String, Sendable, Hashable {
        case notGreen = "not-green"
        case signalUnavailable = "signal-unavailable"
        case waitingForForecastSlot = "waiting-for-forecast-slot"
    }

    /// Which of the policy's two pools a release goes to.
    public enum PoolKind: String, Sendable, Hashable {
        case green
        case fallback
    }

    public enum Action: Sendable, Hashable {
        case leaveAlone(LeaveAloneReason)
        /// Look again at `until`: the earliest of the deadline, the next expected green start
        /// and the signal recheck.
        case wait(until: Date, reason: WaitReason)
        case release(pool: PoolDirective, kind: PoolKind, reason: ReleaseReason)
    }

    public struct Decision: Sendable, Hashable {
        public var action: Action
        /// For a release: one JSON Patch that unsuspends the Job, steers it and records why,
        /// guarded by the Job's resourceVersion so a stale cache or a second leader gets 409.
        public var patch: [JSONPatchOperation]
        public var warnings: [String]
        /// The hold's deadline as the decision understood it.
        public var deadline: Date?
        /// The intensity the release is recorded with, when known.
        public var intensity: Double?
    }

    public static func decide(
        job: Job, policy resolution: PolicyResolver.Resolution, signal: SignalReading, forecast: [ForecastPoint]? = nil, now: Date
    ) -> Decision {
        let policy = resolution.policy
        var warnings = resolution.warnings
        func leave(_ reason: LeaveAloneReason) -> Decision {
            Decision(action: .leaveAlone(reason), patch: [], warnings: warnings, deadline: nil, intensity: nil)
        }
        guard job.metadata.annotation(CarbonAnnotations.state) == CarbonState.deferred.rawValue else { return leave(.notHeld) }
        if job.metadata.deletionTimestamp != nil { return leave(.beingDeleted) }
        if job.isFinished { return leave(.finished) }
        if !job.isSuspended { return leave(.unsuspendedByUser) }
        if job.status?.startTime != nil { return leave(.alreadyStarted) }

        let deadline = heldDeadline(of: job, policy: policy, now: now, warnings: &warnings)
        let current = signal.signal
        let greenNow = current.map(policy.isGreen) ?? false
        func release(_ kind: PoolKind, _ reason: ReleaseReason) -> Decision {
            let pool = kind == .green ? policy.greenPool : policy.fallbackPool
            let injection = SchedulingInjection.plan(for: job, pool: pool, mode: policy.mode)
            warnings += injection.warnings
            var metadata = MetadataPatch(for: job.metadata)
            metadata.setAnnotation(CarbonAnnotations.state, CarbonState.released.rawValue)
            metadata.setAnnotation(CarbonAnnotations.releasedAt, RFC3339.format(now))
            metadata.setAnnotation(CarbonAnnotations.releaseReason, reason.rawValue)
            if let current { metadata.setAnnotation(CarbonAnnotations.intensityAtDecision, IntensityText.format(current.intensity)) }
            var patch: [JSONPatchOperation] = []
            if let resourceVersion = job.metadata.resourceVersion {
                patch.append(.replace(Self.resourceVersionPath, .string(resourceVersion)))
            }
            patch.append(.replace(Self.suspendPath, false))
            patch += injection.operations + metadata.operations
            return Decision(action: .release(pool: pool, kind: kind, reason: reason), patch: patch, warnings: warnings, deadline: deadline, intensity: current?.intensity)
        }

        if job.metadata.annotation(CarbonAnnotations.releaseNow) == CarbonAnnotations.trueValue {
            return release(greenNow ? .green : .fallback, .manual)
        }
        if now >= deadline { return release(.fallback, .maxDelay) }
        guard let current else {
            let recheck = min(deadline, now.addingTimeInterval(policy.recheckInterval.timeInterval))
            return Decision(action: .wait(until: recheck, reason: .signalUnavailable), patch: [], warnings: warnings, deadline: deadline, intensity: nil)
        }

        if policy.strategy == .forecast, let plan = ForecastPlanner.plan(forecast ?? [], currentIntensity: current.intensity, now: now, deadline: deadline) {
            switch plan {
            case .releaseNow:
                return release(.green, greenNow ? .greenWindow : .forecastBest)
            case .waitUntil(let start):
                let until = min(start, deadline, now.addingTimeInterval(policy.recheckInterval.timeInterval))
                return Decision(action: .wait(until: until, reason: .waitingForForecastSlot), patch: [], warnings: warnings, deadline: deadline, intensity: current.intensity)
            }
        }
        if greenNow { return release(.green, .greenWindow) }

        var until = min(deadline, now.addingTimeInterval(policy.recheckInterval.timeInterval))
        if policy.greenThreshold == nil, let next = current.nextGreenStart, next > now { until = min(until, next) }
        if current.windowEnd > now { until = min(until, current.windowEnd) }
        return Decision(action: .wait(until: until, reason: .notGreen), patch: [], warnings: warnings, deadline: deadline, intensity: current.intensity)
    }

    /// The deadline the webhook wrote; when it is missing or unreadable, the one the policy
    /// gives from the Job's creation (with a warning), so that no Job is held forever.
    public static func heldDeadline(of job: Job, policy: ResolvedPolicy, now: Date, warnings: inout [String]) -> Date {
        let text = job.metadata.annotation(CarbonAnnotations.deadline)
        if let text, let deadline = RFC3339.parse(text) { return deadline }
        let recomputed = AdmissionDecider.deadline(for: job, maxDelay: policy.maxDelay, now: job.metadata.creationTimestamp ?? now)
        let problem = text.map { "annotation \(CarbonAnnotations.deadline) \"\($0)\" is not an RFC 3339 time" } ?? "annotation \(CarbonAnnotations.deadline) is missing"
        warnings.append("\(problem); using \(RFC3339.format(recomputed)) (creation time + maxDelay \(policy.maxDelay))")
        return recomputed
    }
}

/// The `forecast` strategy's planning: release at the start of the lowest-intensity slot
/// before the deadline, or now if nothing ahead beats the present.
public enum ForecastPlanner {
    public enum Plan: Sendable, Hashable {
        case releaseNow
        case waitUntil(Date)
    }

    /// `nil` when the forecast says nothing about [now, deadline), so the caller falls back to
    /// `firstGreen`.
    public static func plan(_ points: [ForecastPoint], currentIntensity: Double, now: Date, deadline: Date) -> Plan? {
        let ahead = points.filter { $0.end > now && $0.start < deadline }
        guard !ahead.isEmpty else { return nil }
        var best: (start: Date, intensity: Double) = (now, currentIntensity)
        for point in ahead.sorted(by: { $0.start < $1.start }) where point.intensity < best.intensity {
            best = (max(point.start, now), point.intensity)
        }
        return best.start <= now ? .releaseNow : .waitUntil(best.start)
    }
}
