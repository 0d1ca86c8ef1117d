public import KarbonetesModels

/// Tells which regions just turned green, so the controller wakes their held Jobs at once
/// instead of at each Job's next recheck: a green flip releases a region's Jobs within one
/// signal poll interval.
public struct GreenFlipDetector: Sendable {
    private var lastGreen: [String: Bool] = [:]

    public init() {}

    /// Records the region's state; true when it is green now and was not green (or unknown)
    /// at the last observation.
    public mutating func observe(region: String, green: Bool) -> Bool {
        let previous = lastGreen.updateValue(green, forKey: region)
        return green && previous != true
    }
}

/// Which Jobs the controller holds, defined once for the cache index, the held gauges, the
/// policy status and the region wake, and which cache changes can give a reconcile anything
/// to do.
public enum HeldJobs {
    /// The informer cache index of held Jobs (`byIndex(HeldJobs.indexName, HeldJobs.indexValue)`).
    ///
    /// Why an index: the periodic work (region wake, gauges, policy status) used to copy and
    /// sort every cached Job twice a poll interval under the cache's lock; at 10,000 Jobs that
    /// was 38% of the controller's CPU while it released (perf, bench-controller). The index
    /// keeps only held Jobs' keys, so the scan shrinks as Jobs are released.
    public static let indexName = "carbon-aware.io/held"
    public static let indexValue = "true"

    /// The index function: held Jobs are found under ``indexValue``, others under nothing.
    public static let index: @Sendable (Job) -> [String] = { isHeld($0) ? [indexValue] : [] }

    /// Deferred by the webhook, still suspended and not finished.
    public static func isHeld(_ job: Job) -> Bool {
        job.metadata.annotation(CarbonAnnotations.state) == CarbonState.deferred.rawValue && job.isSuspended && !job.isFinished
    }

    /// Whether the reconciler can have anything to do with a Job in this state: only Jobs in
    /// the `deferred` state (the decision engine leaves every other Job alone, for good). The
    /// informer's cache keeps only these (a released Job leaves it, so memory follows the held
    /// Jobs) and its handler enqueues only these, so a release's own MODIFIED event (state
    /// `released`) costs no reconcile. A predicate on the object's state, not on the event.
    public static func needsReconcile(_ job: Job) -> Bool {
        job.metadata.annotation(CarbonAnnotations.state) == CarbonState.deferred.rawValue
    }
}

/// Groups held Jobs by the region their policy resolves to.
public enum HeldJobsByRegion {
    public static func group(_ jobs: [Job], policies: some PolicyLookup) -> [String: [ObjectKey]] {
        var byRegion: [String: [ObjectKey]] = [:]
        for job in jobs where HeldJobs.isHeld(job) {
            let region = PolicyResolver.resolve(job: job, policies: policies).policy.region
            byRegion[region, default: []].append(job.key)
        }
        return byRegion
    }
}
