import { failure, type RequestName } from '../protocol';
import type { Handler } from './chat-service';

// PLACEHOLDER on the h/base branch only: the channel requests of protocol 3, to be built (never merged as is).
type ChannelRequest =
  | 'channels'
  | 'conversations'
  | 'createchannel'
  | 'join'
  | 'leave'
  | 'topic'
  | 'invite'
  | 'kick'
  | 'renamechannel'
  | 'deletechannel'
  | 'members'
  | 'post'
  | 'read';
const todo = async () => failure('INTERNAL', 'not built yet');
export const channelHandlers: { [E in ChannelRequest & RequestName]: Handler<E> } = {
  channels: todo,
  conversations: todo,
  createchannel: todo,
  join: todo,
  leave: todo,
  topic: todo,
  invite: todo,
  kick: todo,
  renamechannel: todo,
  deletechannel: todo,
  members: todo,
  post: todo,
  read: todo,
};
