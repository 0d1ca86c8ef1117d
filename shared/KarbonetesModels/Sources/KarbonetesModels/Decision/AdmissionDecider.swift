public import Foundation

/// The admission half of the decision engine: what the webhook does with a Job on CREATE.
/// A pure function of (Job, policy, signal, now).
public enum AdmissionDecider {
    /// Why a Job passes through admission untouched.
    public enum Exemption: String, Sendable, Hashable {
        case notCreate = "not-create"
        case notOptedIn = "not-opted-in"
        case kueueManaged = "kueue-managed"
        case suspendedByUser = "suspended-by-user"
    }

    /// Why an opted-in Job was let run at once without being held.
    public enum BypassReason: String, Sendable, Hashable {
        case signalUnavailable = "signal-unavailable"
        case deadlinePassed = "deadline-passed"
    }

    public enum Outcome: Sendable, Hashable {
        case unchanged(Exemption)
        case admittedGreen(pool: String)
        case deferred(deadline: Date)
        case bypassed(BypassReason, pool: String)

        /// The label the webhook's admissions metric uses.
        public var metricLabel: String {
            switch self {
            case .unchanged: return "unchanged"
            case .admittedGreen: return CarbonState.admittedGreen.rawValue
            case .deferred: return CarbonState.deferred.rawValue
            case .bypassed: return CarbonState.bypassed.rawValue
            }
        }
    }

    public struct Decision: Sendable, Hashable {
        public var outcome: Outcome
        /// The minimal JSON Patch to send back; empty when nothing changes.
        public var patch: [JSONPatchOperation]
        /// For the AdmissionResponse's `warnings`, Events and logs.
        public var warnings: [String]
    }

    /// Whether admission leaves the Job alone before any policy or signal is looked at, so
    /// the webhook spends nothing on Jobs that are not opted in.
    public static func exemption(for job: Job, operation: String?) -> Exemption? {
        if let operation, operation != "CREATE" { return .notCreate }
        guard job.metadata.annotation(CarbonAnnotations.enabled) == CarbonAnnotations.trueValue else { return .notOptedIn }
        if job.metadata.label(CarbonAnnotations.kueueQueueName) != nil
            || job.metadata.annotation(CarbonAnnotations.kueueQueueName) != nil
        {
            return .kueueManaged
        }
        if job.spec?.suspend == true { return .suspendedByUser }
        return nil
    }

    /// The moment the hold ends: the CronJob's scheduled time when the Job has one (so a
    /// late-created Job does not get extra delay), else its creation time, else now; plus
    /// maxDelay.
    public static func deadline(for job: Job, maxDelay: GoDuration, now: Date) -> Date {
        let scheduled = job.metadata.annotation(CarbonAnnotations.cronJobScheduledTimestamp).flatMap(RFC3339.parse)
        let start = scheduled ?? job.metadata.creationTimestamp ?? now
        return start.addingTimeInterval(maxDelay.timeInterval)
    }

    public static func decide(job: Job, operation: String? = "CREATE", policy resolution: PolicyResolver.Resolution, signal: SignalReading, now: Date) -> Decision {
        if let exemption = exemption(for: job, operation: operation) {
            return Decision(outcome: .unchanged(exemption), patch: [], warnings: [])
        }
        let policy = resolution.policy
        var warnings = resolution.warnings
        var metadata = MetadataPatch(for: job.metadata)
        if let signal = signal.signal {
            metadata.setAnnotation(CarbonAnnotations.intensityAtSubmission, IntensityText.format(signal.intensity))
        }

        if let current = signal.signal, policy.isGreen(current) {
            let injection = SchedulingInjection.plan(for: job, pool: policy.greenPool, mode: policy.mode)
            warnings += injection.warnings
            metadata.setAnnotation(CarbonAnnotations.state, CarbonState.admittedGreen.rawValue)
            metadata.setAnnotation(CarbonAnnotations.intensityAtDecision, IntensityText.format(current.intensity))
            return Decision(outcome: .admittedGreen(pool: policy.greenPool.name), patch: metadata.operations + injection.operations, warnings: warnings)
        }

        if case .unavailable(let reason) = signal, policy.onSignalUnavailable == .run {
            warnings.append("carbon signal for region \"\(policy.region)\" unavailable (\(reason)); running the Job now on NodePool \"\(policy.fallbackPool.name)\" (onSignalUnavailable: run)")
            return bypass(job: job, reason: .signalUnavailable, policy: policy, metadata: metadata, warnings: warnings)
        }

        let deadline = deadline(for: job, maxDelay: policy.maxDelay, now: now)
        guard deadline > now else {
            warnings.append("the Job's deadline \(RFC3339.format(deadline)) has already passed; running it now on NodePool \"\(policy.fallbackPool.name)\"")
            return bypass(job: job, reason: .deadlinePassed, policy: policy, metadata: metadata, warnings: warnings)
        }
        if case .unavailable(let reason) = signal {
            warnings.append("carbon signal for region \"\(policy.region)\" unavailable (\(reason)); holding the Job until the grid is green or \(RFC3339.format(deadline)) (onSignalUnavailable: wait)")
        }
        metadata.setLabel(CarbonAnnotations.managedLabel, CarbonAnnotations.trueValue)
        metadata.setAnnotation(CarbonAnnotations.state, CarbonState.deferred.rawValue)
        metadata.setAnnotation(CarbonAnnotations.deadline, RFC3339.format(deadline))
        let suspend: [JSONPatchOperation] = [.add("/spec/suspend", true)]
        return Decision(outcome: .deferred(deadline: deadline), patch: suspend + metadata.operations, warnings: warnings)
    }

    private static func bypass(job: Job, reason: BypassReason, policy: ResolvedPolicy, metadata: MetadataPatch, warnings: [String]) -> Decision {
        var metadata = metadata
        let injection = SchedulingInjection.plan(for: job, pool: policy.fallbackPool, mode: policy.mode)
        metadata.setAnnotation(CarbonAnnotations.state, CarbonState.bypassed.rawValue)
        return Decision(outcome: .bypassed(reason, pool: policy.fallbackPool.name), patch: metadata.operations + injection.operations, warnings: warnings + injection.warnings)
    }
}
