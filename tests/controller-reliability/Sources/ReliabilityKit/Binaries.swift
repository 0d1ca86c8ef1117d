import Foundation

/// Where the three binaries under test are. Each can be named by an environment variable
/// (`KARBONETES_CONTROLLER`, `KARBONETES_DEVAPI`, `KARBONETES_SIGNAL`, so the benchmark can
/// point at release builds); otherwise the owning package's debug build, then `bin/`.
public enum Binaries {
    /// The repository root: #filePath is <root>/tests/controller-reliability/Sources/ReliabilityKit/<file>.
    public static let repositoryRoot: String = {
        var root = #filePath as NSString
        for _ in 0..<5 { root = root.deletingLastPathComponent as NSString }
        return root as String
    }()

    public static var controller: String? {
        locate(environment: "KARBONETES_CONTROLLER", package: "services/controller", product: "karbonetes-controller")
    }

    public static var devAPI: String? {
        locate(environment: "KARBONETES_DEVAPI", package: "shared/KarbonetesDevAPI", product: "karbonetes-devapi")
    }

    public static var signal: String? {
        locate(environment: "KARBONETES_SIGNAL", package: "services/signal", product: "karbonetes-signal")
    }

    /// Nil when all three are built, else a message that says how to build what is missing.
    public static var missing: String? {
        let absent = [("karbonetes-controller", controller), ("karbonetes-devapi", devAPI), ("karbonetes-signal", signal)].filter { $0.1 == nil }.map(\.0)
        guard !absent.isEmpty else { return nil }
        return "not built: \(absent.joined(separator: ", ")) (run `make test-controller-reliability`, which builds them, or set KARBONETES_CONTROLLER/KARBONETES_DEVAPI/KARBONETES_SIGNAL)"
    }

    static func locate(environment name: String, package: String, product: String) -> String? {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment[name], !explicit.isEmpty { candidates.append(explicit) }
        candidates.append("\(repositoryRoot)/\(package)/.build/debug/\(product)")
        candidates.append("\(repositoryRoot)/bin/\(product)")
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
