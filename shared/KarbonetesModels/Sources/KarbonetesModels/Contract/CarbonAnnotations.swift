/// The annotation and label contract between users, the webhook and the controller. Every
/// key Karbonetes reads or writes is here and only here; `docs/contract.md` documents them.
public enum CarbonAnnotations {
    public static let prefix = "carbon-aware.io/"

    // Set by users on a Job, or on a CronJob's `spec.jobTemplate.metadata.annotations`.

    /// `"true"` opts a Job in; any other value (or none) leaves it untouched.
    public static let enabled = "carbon-aware.io/enabled"
    /// How long the Job may wait for a green window (Go duration: `6h`, `90m`, `1h30m`).
    public static let maxDelay = "carbon-aware.io/max-delay"
    /// The CarbonAwarePolicy in the Job's namespace (default: the one named `default`).
    public static let policy = "carbon-aware.io/policy"
    /// `prefer` or `strict`: overrides the policy's mode.
    public static let mode = "carbon-aware.io/mode"
    /// The grid region whose signal applies: overrides the policy's region.
    public static let region = "carbon-aware.io/region"
    /// The Job's energy estimate in kWh, for the emissions-avoided estimate.
    public static let estimatedEnergyKWh = "carbon-aware.io/estimated-energy-kwh"
    /// `"true"` on a held Job releases it at once (reason `manual`).
    public static let releaseNow = "carbon-aware.io/release-now"

    // Written by Karbonetes.

    /// Label `"true"` on every Job Karbonetes holds, so the controller can watch held Jobs
    /// with a server-side label selector.
    public static let managedLabel = "carbon-aware.io/managed"
    /// One of ``CarbonState``.
    public static let state = "carbon-aware.io/state"
    /// RFC 3339: the latest moment the Job is released, whatever the grid.
    public static let deadline = "carbon-aware.io/deadline"
    public static let releasedAt = "carbon-aware.io/released-at"
    /// One of ``ReleaseReason``.
    public static let releaseReason = "carbon-aware.io/release-reason"
    /// gCO2eq/kWh when the Job was admitted.
    public static let intensityAtSubmission = "carbon-aware.io/intensity-at-submission"
    /// gCO2eq/kWh when the Job was admitted green or released.
    public static let intensityAtDecision = "carbon-aware.io/intensity-at-decision"

    // Read from other components.

    /// Kueue's queue label: Jobs Kueue manages are never touched (Kueue suspends them itself).
    public static let kueueQueueName = "kueue.x-k8s.io/queue-name"
    /// Set by the CronJob controller on the Jobs it creates: the schedule time the Job is for.
    public static let cronJobScheduledTimestamp = "batch.kubernetes.io/cronjob-scheduled-timestamp"
    /// The node label Karpenter puts on every node of a NodePool.
    public static let karpenterNodePoolLabel = "karpenter.sh/nodepool"

    /// The value of ``managedLabel`` and of ``enabled`` that counts.
    public static let trueValue = "true"
    /// The server-side label selector for held Jobs.
    public static let managedSelector = "carbon-aware.io/managed=true"
}

/// The `carbon-aware.io/state` a Job is in.
public enum CarbonState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Admitted while the grid was green, steered to the green pool.
    case admittedGreen = "admitted-green"
    /// Held (`suspend: true`) until a green window or the deadline.
    case deferred
    /// Was held, and Karbonetes let it run.
    case released
    /// Opted in, but Karbonetes let it run at once without holding it (signal unavailable
    /// with `onSignalUnavailable: run`, or its deadline had already passed).
    case bypassed
}

/// Why a Job was let run.
public enum ReleaseReason: String, Sendable, Hashable, Codable, CaseIterable {
    case greenWindow = "green-window"
    case forecastBest = "forecast-best"
    case maxDelay = "max-delay"
    case signalUnavailable = "signal-unavailable"
    case manual

    /// Releases for carbon reasons may be paced; a deadline or a user's request never waits.
    public var mayBePaced: Bool {
        switch self {
        case .greenWindow, .forecastBest: return true
        case .maxDelay, .signalUnavailable, .manual: return false
        }
    }
}
