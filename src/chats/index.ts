// Chat lifecycle: the one place a chat is removed, paused or moved to its supergroup id.
export {
  type ChangeOptions,
  type ChatLifecycleDeps,
  chatRefOf,
  type Migration,
  migrateChat,
  type Pause,
  pauseChat,
  type Removal,
  type RemovalSource,
  removeChat,
} from "./lifecycle.js";
