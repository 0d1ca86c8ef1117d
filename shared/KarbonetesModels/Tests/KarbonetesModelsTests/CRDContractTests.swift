import Foundation
import KarbonetesModels
import Testing

/// The CRD manifest is the one source of truth the chart installs; these tests pin that its
/// enums and defaults are the ones the decision engine uses.
@Suite("The CarbonAwarePolicy CRD agrees with the models")
struct CRDContractTests {
    static let crdPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/helm/karbonetes/crds/carbonawarepolicies.carbon-aware.io.yaml")

    static func crd() throws -> String { try String(contentsOf: crdPath, encoding: .utf8) }

    @Test("the CRD names the group, version, kind and plural of the models")
    func names() throws {
        let text = try Self.crd()
        #expect(text.contains("name: \(CarbonAwarePolicy.plural).\(CarbonAwarePolicy.group)"))
        #expect(text.contains("group: \(CarbonAwarePolicy.group)"))
        #expect(text.contains("kind: \(CarbonAwarePolicy.kind)"))
        #expect(text.contains("- name: \(CarbonAwarePolicy.version)"))
    }

    @Test("every enum in the CRD lists exactly the models' cases")
    func enums() throws {
        let text = try Self.crd()
        #expect(text.contains("enum: [\(SchedulingMode.allCases.map(\.rawValue).joined(separator: ", "))]"))
        #expect(text.contains("enum: [\(ReleaseStrategy.allCases.map(\.rawValue).joined(separator: ", "))]"))
        #expect(text.contains("enum: [\(SignalUnavailablePolicy.allCases.map(\.rawValue).joined(separator: ", "))]"))
    }

    @Test("the CRD's defaults are the built-in defaults")
    func defaults() throws {
        let lines = try Self.crd().split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        func defaultAfter(_ field: String) -> String? {
            guard let start = lines.firstIndex(of: "\(field):") else { return nil }
            return lines[start...].first { $0.hasPrefix("default:") }.map { String($0.dropFirst("default:".count)).trimmingCharacters(in: .whitespaces) }
        }
        #expect(try defaultAfter("maxDelay").map { try GoDuration(parsing: $0) } == BuiltInDefaults.maxDelay)
        #expect(try defaultAfter("recheckInterval").map { try GoDuration(parsing: $0) } == BuiltInDefaults.recheckInterval)
        #expect(defaultAfter("region") == BuiltInDefaults.region)
        #expect(defaultAfter("mode") == SchedulingMode.prefer.rawValue)
        #expect(defaultAfter("strategy") == ReleaseStrategy.firstGreen.rawValue)
        #expect(defaultAfter("onSignalUnavailable") == SignalUnavailablePolicy.run.rawValue)
        let text = try Self.crd()
        #expect(text.contains("name: \(BuiltInDefaults.greenPool.name)"))
        #expect(text.contains(BuiltInDefaults.greenPoolTaint.key))
        #expect(text.contains("name: \(BuiltInDefaults.fallbackPool.name)"))
    }
}
