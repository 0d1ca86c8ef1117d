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

/// Groups held Jobs by the region their policy resolves to.
public enum HeldJobsByRegion {
    public static func group(_ jobs: [Job], policies: some PolicyLookup) -> [String: [ObjectKey]] {
        var byRegion: [String: [ObjectKey]] = [:]
        for job in jobs where job.metadata.annotation(CarbonAnnotations.state) == CarbonState.deferred.rawValue && job.isSuspended {
            let region = PolicyResolver.resolve(job: job, policies: policies).policy.region
            byRegion[region, default: []].append(job.key)
        }
        return byRegion
    }
}
