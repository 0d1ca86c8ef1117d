import Foundation

/// Turns a Job's annotations and the policies that apply to it into one ``ResolvedPolicy``.
///
/// Bad input never throws the Job away: an unparseable value falls back to the next source
/// (policy, then built-in default) and the resolution carries a warning saying so, which the
/// services turn into admission warnings, Events and log lines.
public enum PolicyResolver {
    public struct Resolution: Sendable, Hashable {
        public var policy: ResolvedPolicy
        public var warnings: [String]
    }

    /// The policy name the Job asks for: its `carbon-aware.io/policy` annotation, else `default`.
    public static func requestedPolicyName(for job: Job) -> String {
        let named = job.metadata.annotation(CarbonAnnotations.policy)?.trimmingCharacters(in: .whitespaces)
        return (named?.isEmpty ?? true) ? CarbonAwarePolicy.defaultName : named!
    }

    /// - Parameters:
    ///   - named: the policy the Job's annotation names, if the annotation is set and it exists.
    ///   - fallback: the namespace's `default` policy, if it exists.
    public static func resolve(job: Job, named: CarbonAwarePolicy?, fallback: CarbonAwarePolicy?) -> Resolution {
        var warnings: [String] = []
        let requested = requestedPolicyName(for: job)
        let namespace = job.metadata.namespace ?? "default"
        var policy: CarbonAwarePolicy?
        if requested == CarbonAwarePolicy.defaultName {
            policy = fallback ?? named
        } else if let named {
            policy = named
        } else {
            policy = fallback
            let instead = fallback == nil ? "built-in defaults" : "policy \"\(CarbonAwarePolicy.defaultName)\""
            warnings.append("CarbonAwarePolicy \"\(requested)\" not found in namespace \"\(namespace)\"; using \(instead)")
        }

        var resolved = ResolvedPolicy(policyName: policy?.metadata.name)
        if let spec = policy?.spec {
            let origin = "CarbonAwarePolicy \(namespace)/\(policy?.metadata.name ?? "?")"
            apply(spec, origin: origin, to: &resolved, warnings: &warnings)
        }
        applyAnnotations(of: job, to: &resolved, warnings: &warnings)
        return Resolution(policy: resolved, warnings: warnings)
    }

    private static func apply(_ spec: CarbonAwarePolicySpec, origin: String, to resolved: inout ResolvedPolicy, warnings: inout [String]) {
        if let text = spec.maxDelay {
            switch parsePositiveDuration(text) {
            case .success(let value): resolved.maxDelay = value
            case .failure(let message):
                warnings.append("\(origin): spec.maxDelay: \(message); using \(resolved.maxDelay)")
            }
        }
        if let region = spec.region, !region.isEmpty { resolved.region = region }
        if let threshold = spec.greenThreshold {
            if threshold >= 0, threshold.isFinite {
                resolved.greenThreshold = threshold
            } else {
                warnings.append("\(origin): spec.greenThreshold \(threshold) is negative; using the signal's green flag")
            }
        }
        if let text = spec.mode {
            if let mode = SchedulingMode(rawValue: text) {
                resolved.mode = mode
            } else {
                warnings.append("\(origin): unknown spec.mode \"\(text)\" (use prefer or strict); using \(resolved.mode.rawValue)")
            }
        }
        if let text = spec.strategy {
            if let strategy = ReleaseStrategy(rawValue: text) {
                resolved.strategy = strategy
            } else {
                warnings.append("\(origin): unknown spec.strategy \"\(text)\" (use firstGreen or forecast); using \(resolved.strategy.rawValue)")
            }
        }
        if let text = spec.onSignalUnavailable {
            if let value = SignalUnavailablePolicy(rawValue: text) {
                resolved.onSignalUnavailable = value
            } else {
                warnings.append("\(origin): unknown spec.onSignalUnavailable \"\(text)\" (use run or wait); using \(resolved.onSignalUnavailable.rawValue)")
            }
        }
        if let pool = spec.greenPool {
            resolved.greenPool = PoolDirective(name: nonEmpty(pool.name) ?? resolved.greenPool.name, taint: pool.taint ?? resolved.greenPool.taint)
        }
        if let pool = spec.fallbackPool {
            resolved.fallbackPool = PoolDirective(name: nonEmpty(pool.name) ?? resolved.fallbackPool.name, taint: pool.taint)
        }
        if let rate = spec.releaseRatePerMinute {
            if rate > 0 {
                resolved.releaseRatePerMinute = rate
            } else if rate < 0 {
                warnings.append("\(origin): spec.releaseRatePerMinute \(rate) is negative; releases are not paced")
            }
        }
        if let text = spec.recheckInterval {
            switch parsePositiveDuration(text) {
            case .success(let value): resolved.recheckInterval = value
            case .failure(let message):
                warnings.append("\(origin): spec.recheckInterval: \(message); using \(resolved.recheckInterval)")
            }
        }
        if let energy = spec.estimatedEnergyKWh {
            if energy >= 0, energy.isFinite {
                resolved.estimatedEnergyKWh = energy
            } else {
                warnings.append("\(origin): spec.estimatedEnergyKWh \(energy) is negative; ignored")
            }
        }
    }

    private static func applyAnnotations(of job: Job, to resolved: inout ResolvedPolicy, warnings: inout [String]) {
        if let text = job.metadata.annotation(CarbonAnnotations.maxDelay) {
            switch parsePositiveDuration(text) {
            case .success(let value): resolved.maxDelay = value
            case .failure(let message):
                warnings.append("annotation \(CarbonAnnotations.maxDelay): \(message); using \(resolved.maxDelay)")
            }
        }
        if let text = job.metadata.annotation(CarbonAnnotations.mode) {
            if let mode = SchedulingMode(rawValue: text) {
                resolved.mode = mode
            } else {
                warnings.append("annotation \(CarbonAnnotations.mode): unknown mode \"\(text)\" (use prefer or strict); using \(resolved.mode.rawValue)")
            }
        }
        if let region = nonEmpty(job.metadata.annotation(CarbonAnnotations.region)) {
            resolved.region = region
        }
        if let text = job.metadata.annotation(CarbonAnnotations.estimatedEnergyKWh) {
            if let energy = Double(text), energy >= 0, energy.isFinite {
                resolved.estimatedEnergyKWh = energy
            } else {
                warnings.append("annotation \(CarbonAnnotations.estimatedEnergyKWh): \"\(text)\" is not a non-negative number; ignored")
            }
        }
    }

    private enum DurationResult {
        case success(GoDuration)
        case failure(String)
    }

    private static func parsePositiveDuration(_ text: String) -> DurationResult {
        do {
            let value = try GoDuration(parsing: text.trimmingCharacters(in: .whitespaces))
            return value > .zero ? .success(value) : .failure("duration \"\(text)\" must be more than zero")
        } catch {
            return .failure(error.description)
        }
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return text
    }
}
