import Foundation
import Testing
import _TestSupport
import PixelData
import PixelMasks
import PixelNN
import PixelTensor
@testable import PixelAttacks

@Suite("The attack suite's bounded attacks: schedules, gradients, seeds, ensembles, the masking check")
struct BoundedSuiteTests {
  @Test("one-pixel finds the one pixel that flips a linear model, and cannot when the mask hides it")
  func onePixelFindsThePixel() throws {
    let spec = ModelSpec(input: [1, 4, 4], classes: 2, layers: [LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 2)])
    let model = try Model(spec: spec, seed: 0)
    var weight = [Float](repeating: 0, count: 32)
    weight[16 + 11] = 10  // class 1 reads pixel (2, 3)
    try model.loadState(["fc.weight": Tensor(weight, shape: [2, 16]), "fc.bias": Tensor([1, 0], shape: [2])], source: "hand")
    model.setMode(.inference)
    let x = Tensor.zeros([2, 1, 4, 4])
    let attack = try OnePixel(pixels: 1, population: 20, iterations: 30)
    var rng = SeededGenerator(seed: 1)
    let xAdv = attack.perturb(x, criterion: .misclassification(labels: [0, 0]), within: try ThreatModel(norm: .lInfinity, epsilon: 1),
                              model: model, using: &rng)
    #expect(withoutGradients { model.logits(xAdv).argmax(alongAxis: 1) } == [1, 1])
    #expect(xAdv.scalars.enumerated().allSatisfy { $0.offset % 16 == 11 || $0.element == 0 })
    var hidden = [Float](repeating: 1, count: 16)
    hidden[11] = 0
    let masked = attack.perturb(x, criterion: .misclassification(labels: [0, 0]),
                                within: try ThreatModel(norm: .lInfinity, epsilon: 1, mask: Tensor(hidden, shape: [1, 1, 4, 4])),
                                model: model, using: &rng)
    #expect(withoutGradients { model.logits(masked).argmax(alongAxis: 1) } == [0, 0])
    #expect(masked.scalars.enumerated().allSatisfy { $0.offset % 16 != 11 || $0.element == 0 })
  }

  @Test("APGD's checkpoints follow Croce & Hein's schedule")
  func checkpoints() {
    #expect(APGD.checkpoints(steps: 100) == [22, 41, 57, 70, 80, 87, 93, 99])
    #expect(APGD.checkpoints(steps: 10) == [2, 3, 4, 5, 6, 7, 8, 9, 10])
  }

  @Test("Square's window share halves on the paper's schedule, rescaled to the budget")
  func squareSchedule() throws {
    let s = try SquareAttack(queries: 10_000, initialFraction: 0.8)
    #expect([0, 10, 11, 50, 51, 8001].map { s.fraction(at: $0) } == [0.8, 0.8, 0.4, 0.4, 0.2, 0.8 / 512])
    #expect(try SquareAttack(queries: 1000).fraction(at: 2) == 0.4)
  }

  @Test("APGD at the same ε is at least as strong as PGD-20 on the tiny model")
  func apgdBeatsPGD() throws {
    let model = TinyModels.trained()
    let data = TinyModels.halves(64, seed: 5)
    let threat = try ThreatModel(norm: .lInfinity, epsilon: 0.12)
    let runner = AttackRunner(batchSize: 64, seed: 2)
    let pgd = runner.run(try PGD(steps: 20, stepSize: 0.012), model: model, data: data, threat: threat)
    let apgd = runner.run(try APGD(steps: 20), model: model, data: data, threat: threat)
    #expect(apgd.robustAccuracy <= pgd.robustAccuracy)
  }

  @Test("APGD-DLR fools the ten-class fixture CNN where its DLR loss is defined (L∞ and L2)",
        arguments: [(Norm.lInfinity, Float(0.1)), (Norm.l2, Float(1))])
  func apgdDLRSucceeds(_ c: (norm: Norm, epsilon: Float)) throws {
    let f = try AttacksTinyFixture()
    let data = Dataset(name: "attacks_tiny", images: f.x, labels: f.labels, classNames: (0..<10).map(String.init))
    let threat = try ThreatModel(norm: c.norm, epsilon: c.epsilon)
    let result = AttackRunner(batchSize: 16, seed: 3).run(try APGD(loss: .dlr, steps: 20), model: f.model, data: data,
                                                          threat: threat)
    #expect(result.robustAccuracy < result.cleanAccuracy)
  }

  @Test("the targeted DLR loss's logit gradient matches central differences")
  func dlrGradient() throws {
    let x = TinyModels.halves(4, seed: 2).images
    let spec = ModelSpec(input: [1, 8, 8], classes: 5, layers: [LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 5)])
    let wide = try Model(spec: spec, seed: 7)
    wide.setMode(.inference)
    for loss in APGD.Loss.allCases {
      for criterion in [Criterion.misclassification(labels: [0, 1, 2, 3]), .targeted(classes: [1, 2, 3, 4], labels: [0, 1, 2, 3])] {
        let attack = try APGD(loss: loss, steps: 1)
        let probe = LogitProbe(x, model: wide)
        let (_, cotangent) = attack.lossAndCotangent(probe, criterion: criterion)
        let g = probe.inputGradient(cotangent: cotangent).scalars
        var rng = SeededGenerator(seed: 1)
        let v = Tensor.normal(x.shape, using: &rng)
        let h: Float = 1e-3
        func total(_ t: Tensor) -> Double {
          attack.lossAndCotangent(LogitProbe(t, model: wide), criterion: criterion).0.reduce(0) { $0 + Double($1) }
        }
        let numeric = (total(withoutGradients { x + v * h }) - total(withoutGradients { x - v * h })) / Double(2 * h)
        let analytic = zip(g, v.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(Swift.abs(numeric - analytic) <= 2e-2 * Swift.max(Swift.abs(analytic), 1e-2), "\(loss) \(criterion.isTargeted): \(numeric) vs \(analytic)")
      }
    }
  }

  @Test("one-pixel: the same seed gives the same bytes, another seed another search")
  func onePixelSeeds() throws {
    let model = TinyModels.trained()
    let x = TinyModels.halves(8, seed: 3)
    let threat = try ThreatModel(norm: .lInfinity, epsilon: 1)
    let attack = try OnePixel(pixels: 1, population: 10, iterations: 3)
    func run(_ seed: UInt64) -> [Float] {
      var rng = SeededGenerator(seed: seed)
      return attack.perturb(x.images, criterion: .misclassification(labels: x.labels), within: threat, model: model, using: &rng).scalars
    }
    #expect(run(4) == run(4))
    #expect(run(4) != run(5))
  }

  @Test("an ensemble keeps per example the worst case and reports each member and itself")
  func ensemble() throws {
    let model = TinyModels.trained()
    let data = TinyModels.halves(48, seed: 6)
    let members: [any BoundedAttack] = [FGSM(), try SquareAttack(queries: 50)]
    let report = try AttackReport.evaluate([try AttackEnsemble(members)], model: model, modelName: "tiny", data: data,
                                           norm: .lInfinity, epsilons: [0.12], mask: nil, targeted: false,
                                           runner: AttackRunner(batchSize: 16, seed: 1))
    #expect(report.results.map(\.attack) == ["fgsm", "square-50", "ensemble(fgsm+square-50)"])
    let ensembleRow = report.results[2]
    #expect(ensembleRow.robustAccuracy <= report.results[0].robustAccuracy)
    #expect(ensembleRow.robustAccuracy <= report.results[1].robustAccuracy)
    // The sequential perturb (what masked-sweep and defenses run) agrees with the report's worst case.
    let threat = try ThreatModel(norm: .lInfinity, epsilon: 0.12)
    let direct = AttackRunner(batchSize: 16, seed: 1).run(try AttackEnsemble(members), model: model, data: data, threat: threat)
    #expect(direct.robustAccuracy <= Swift.min(report.results[0].robustAccuracy, report.results[1].robustAccuracy))
  }

  @Test("a gradient-free attack beating a gradient attack at the same ε is reported as possible masking")
  func maskingWarning() {
    func row(_ attack: String, _ robust: Double) -> AttackResult {
      AttackResult(attack: attack, norm: "linf", epsilon: 0.1, targeted: false, maskFraction: 1, count: 10, cleanAccuracy: 0.9,
                   robustAccuracy: robust, successRate: 0, meanLInfinity: 0, meanL2: 0, maxOffMaskChange: 0, maxPerturbation: 0.1,
                   withinBounds: true, gradientHealth: GradientHealth())
    }
    let flagged = AttackReport.guards(results: [row("pgd-20", 0.5), row("square-1000", 0.3)], references: [], randomized: false, targeted: false)
    #expect(flagged.contains { $0.contains("gradient masking?") && $0.contains("square-1000") })
    let fine = AttackReport.guards(results: [row("pgd-20", 0.3), row("square-1000", 0.5), row("fgsm", 0.6)], references: [],
                                   randomized: false, targeted: false)
    #expect(!fine.contains { $0.contains("gradient masking?") })
  }
}

