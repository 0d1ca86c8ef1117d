import KarbonetesModels
import Testing

@Suite("JSON Patch and merge patch")
struct JSONPatchApplierTests {
    let document: JSONValue = ["metadata": ["name": "a", "labels": ["x": "1"]], "spec": ["list": [1, 2, 3]]]

    @Test("RFC 6902 ops apply in order")
    func appliesOps() throws {
        let ops: [JSONPatchOperation] = [
            .test("/metadata/name", "a"),
            .add("/metadata/labels/carbon-aware.io~1managed", "true"),
            .replace("/spec/list/0", 9),
            .add("/spec/list/-", 4),
            .add("/spec/list/1", 5),
            .remove("/metadata/labels/x"),
            JSONPatchOperation(op: .copy, path: "/spec/copy", from: "/metadata/name"),
            JSONPatchOperation(op: .move, path: "/spec/moved", from: "/spec/copy"),
        ]
        let result = try JSONPatchApplier.apply(ops, to: document)
        #expect(result == ["metadata": ["name": "a", "labels": ["carbon-aware.io/managed": "true"]], "spec": ["list": [9, 5, 2, 3, 4], "moved": "a"]])
    }

    @Test("a failed test op fails the patch and says which op")
    func failedTest() {
        #expect {
            _ = try JSONPatchApplier.apply([.add("/metadata/x", 1), .test("/metadata/name", "b")], to: document)
        } throws: { error in
            (error as? JSONPatchError)?.isTestFailure == true && String(describing: error) == "op 1: test of /metadata/name failed"
        }
    }

    @Test("ops on missing paths fail", arguments: [
        JSONPatchOperation.add("/missing/child", 1), .remove("/metadata/nope"), .replace("/spec/list/7", 1), .add("/spec/list/01", 1),
    ])
    func missingPaths(_ op: JSONPatchOperation) {
        #expect(throws: JSONPatchError.self) { try JSONPatchApplier.apply([op], to: document) }
    }

    @Test("a merge patch merges objects, replaces arrays and deletes on null")
    func mergePatch() {
        let result = JSONPatchApplier.mergePatch(["metadata": ["labels": ["x": .null, "y": "2"]], "spec": ["list": [7]]], onto: document)
        #expect(result == ["metadata": ["name": "a", "labels": ["y": "2"]], "spec": ["list": [7]]])
    }
}
