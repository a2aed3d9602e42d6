import PixelNN
import PixelTensor
import PixelTraining

/// Defensive distillation (Papernot et al., IEEE S&P 2016, https://arxiv.org/abs/1511.04508):
/// the student is trained at temperature T on the teacher's soft labels at T,
/// `L = −mean_n Σ_k softmax(t(x)/T)_k · log softmax(s(x)/T)_k`, and evaluated at T = 1 (its
/// logits as they are). The teacher is itself trained at T (``StandardTraining`` with
/// `temperature`). At T = 1 the student's logits are about T times larger than needed, so its
/// softmax saturates and its true-label gradient underflows: the report's gradient guard must say so.
public struct Distillation: TrainingObjective {
  /// The teacher, used in inference mode.
  public let teacher: Model
  /// T.
  public var temperature: Float

  /// Distillation from `teacher` at `temperature` (> 0).
  public init(teacher: Model, temperature: Float) {
    precondition(temperature > 0 && temperature.isFinite, "temperature must be positive")
    self.teacher = teacher
    self.temperature = temperature
  }

  /// The teacher's soft labels at T for `inputs`, a constant `[N, K]`.
  public func softLabels(_ inputs: Tensor) -> Tensor {
    teacher.withMode(.inference) { withoutGradients { (teacher(inputs) * (1 / temperature)).softmax(alongAxis: 1) } }
  }

  public func loss(model: Model, inputs: Tensor, labels: [Int], using rng: inout SeededGenerator) -> ObjectiveValue {
    let targets = softLabels(inputs)
    let logits = model(inputs)
    let soft = softCrossEntropy(logits: logits * (1 / temperature), targets: targets)
    let hard = withoutGradients { crossEntropy(logits: logits, labels: labels) }
    return ObjectiveValue(loss: soft, logits: logits, terms: ["soft_ce": soft.item, "ce": hard.item])
  }
}
