import Foundation
import KarbonetesCarbon
import KarbonetesEval
import Testing

@Suite("The karbonetes-eval command")
struct CommandLineTests {
    @Test("--version prints the VERSION file's version")
    func version() throws {
        let file = try String(contentsOf: Paths.package.appendingPathComponent("VERSION"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(file == karbonetesEvalVersion)
        let result = try runTool(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout == "karbonetes-eval \(file)\n")
    }

    @Test("--help lists the flags")
    func help() throws {
        let result = try runTool(["--help"])
        #expect(result.status == 0)
        for flag in ["--trace", "--workload", "--max-delay", "--json", "--plot"] { #expect(result.stdout.contains(flag)) }
    }

    @Test(
        "bad input exits 2 with an error naming the flag",
        arguments: [
            (["--max-delay", "12"], "--max-delay"), (["--workload", "poisson:fast"], "--workload"), (["--threshold", "low"], "--threshold"),
            (["--static-window", "noon"], "--static-window"), (["--to", "2030-01-01"], "--to"), (["--from", "yesterday"], "--from"),
            (["--power-kw", "0"], "--power-kw"), (["--unknown"], "--unknown"),
        ])
    func badFlags(arguments: [String], flag: String) throws {
        let result = try runTool(["--trace", Paths.trace("electricitymaps_NO_2022_hourly.csv")] + arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains(flag), "\(result.stderr)")
    }

    @Test("a malformed trace exits 2 naming --trace, the file, the line and the column")
    func malformedTrace() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("karbonetes-eval-bad-\(UUID().uuidString).csv")
        try "Time,Carbon Intensity\n2020-01-01 00:00:00,10\n2020-01-01 00:30:00,ten\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try runTool(["--trace", file.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--trace"))
        #expect(result.stderr.contains("\(file.path):3:2:"), "\(result.stderr)")
    }

    @Test("a run on a shipped trace prints JSON where the oracle saves carbon and no share exceeds 1, and writes the plot")
    func jsonRun() throws {
        let plot = FileManager.default.temporaryDirectory.appendingPathComponent("karbonetes-eval-\(UUID().uuidString).svg")
        defer {
            try? FileManager.default.removeItem(at: plot)
            try? FileManager.default.removeItem(at: plot.deletingPathExtension().appendingPathExtension("png"))
        }
        let result = try runTool([
            "--trace", Paths.trace("entsoe_GB_2020_30min.csv"), "--from", "2020-05-01", "--to", "2020-05-05",
            "--workload", "poisson:2/h;duration=30m..2h;seed=2", "--max-delay", "8h", "--json", "--plot", plot.path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let strategies = try #require(json["strategies"] as? [String: [String: Any]])
        #expect(Set(strategies.keys) == Set(Strategy.allCases.map(\.rawValue)))
        for (name, figures) in strategies {
            for key in ["emissions_g", "reduction_vs_run_now", "share_of_oracle", "mean_delay_s", "p95_delay_s", "deadline_misses"] {
                #expect(figures[key] != nil, "\(name) lacks \(key)")
            }
            #expect(figures["deadline_misses"] as? Int == 0, "\(name)")
            #expect((figures["share_of_oracle"] as? Double ?? 0) <= 1 + 1e-9, "\(name)")
        }
        #expect((strategies["oracle"]?["reduction_vs_run_now"] as? Double ?? 0) > 0)
        let svg = try String(contentsOf: plot, encoding: .utf8)
        #expect(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"))
        #expect(svg.contains("</svg>"))
        for strategy in Strategy.allCases { #expect(svg.contains(strategy.rawValue)) }
    }
}
